/**
 * @module examples/custom-step/steps/score
 * Scores a sales lead from what the web form sent: company size, where it came
 * from, and whether the address is a company one. Input that can never be scored
 * (no usable email, a size that is not a number) is marked permanent: it becomes
 * a dead letter at once instead of being retried.
 */
import { permanent, type CodeStep } from 'junction-engine';

/** What the web form posts. Unchecked: every field is looked at before use. */
export interface Lead {
  email?: unknown;
  company?: unknown;
  employees?: unknown;
  source?: unknown;
}

export interface ScoredLead {
  email: string;
  company: string | null;
  score: number;
  tier: 'hot' | 'warm' | 'cold';
}

/** `options` of the step in junction.yaml. */
export interface ScoreOptions {
  /** Points per lead source, e.g. { referral: 30, ads: 5 }; unknown sources get 0. */
  sourcePoints: Record<string, number>;
  /** Free mail providers: a lead from one of them is less likely a company. */
  freeMailDomains: string[];
  /** Scores at or above this are "hot". */
  hotAt: number;
}

const EMAIL = /^[^\s@]+@([^\s@]+\.[^\s@]+)$/;

const score: CodeStep<Lead, ScoredLead, ScoreOptions> = (message, ctx) => {
  const lead = message.body;
  const email = typeof lead.email === 'string' ? lead.email.trim().toLowerCase() : '';
  const domain = EMAIL.exec(email)?.[1];
  // Sending it again will not give it an email: a dead letter now, for a person to look at.
  if (!domain) throw permanent(`lead has no valid email (got ${JSON.stringify(lead.email ?? null)})`);
  if (lead.employees !== undefined && (typeof lead.employees !== 'number' || lead.employees < 0)) {
    throw permanent(`employees must be a number ≥ 0 (got ${JSON.stringify(lead.employees)})`);
  }

  const { sourcePoints, freeMailDomains, hotAt } = ctx.options;
  const employees = lead.employees ?? 0;
  let points = employees >= 1000 ? 40 : employees >= 100 ? 25 : employees >= 10 ? 10 : 0;
  points += typeof lead.source === 'string' ? (sourcePoints[lead.source] ?? 0) : 0;
  points += freeMailDomains.includes(domain) ? -10 : 20;
  const total = Math.max(0, Math.min(100, points));
  ctx.logger.debug({ email, score: total }, 'scored lead');

  return {
    ...message,
    body: {
      email,
      company: typeof lead.company === 'string' && lead.company.trim() !== '' ? lead.company.trim() : null,
      score: total,
      tier: total >= hotAt ? 'hot' : total >= hotAt / 2 ? 'warm' : 'cold',
    },
  };
};

export default score;
