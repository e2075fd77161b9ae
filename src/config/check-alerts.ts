/**
 * @module config/check-alerts
 * The reference check of the `alerts` section: every flow and connector a rule
 * watches must exist, and a rule's notices must go through a connector that
 * can carry them (webhook: signed; rest: POSTed to its baseUrl). Like the rest
 * of the second pass, it reads the interpolated value and tolerates any shape.
 */
import { isRecord } from '../core/record.ts';
import { closest } from '../core/suggest.ts';
import type { PathIssue } from './issue.ts';

/** Connector types a notice can be delivered through. */
export const NOTIFY_TYPES = ['webhook', 'rest'] as const;

export function checkAlertReferences(config: Record<string, unknown>): PathIssue[] {
  const alerts = config.alerts;
  if (!isRecord(alerts) || !isRecord(alerts.rules)) return [];
  const flows = isRecord(config.flows) ? Object.keys(config.flows) : [];
  const connectorConfigs = isRecord(config.connectors) ? config.connectors : {};
  const connectors = Object.keys(connectorConfigs);
  const issues: PathIssue[] = [];
  for (const [rule, def] of Object.entries(alerts.rules)) {
    if (!isRecord(def)) continue;
    const at = ['alerts', 'rules', rule];
    if (isRecord(def.when)) {
      for (const [kind, options] of Object.entries(def.when)) {
        if (!isRecord(options)) continue;
        if (typeof options.flow === 'string' && options.flow !== '' && !flows.includes(options.flow)) {
          issues.push({ path: [...at, 'when', kind, 'flow'], message: unknown('flow', options.flow, flows, 'flows') });
        }
        if (typeof options.connector === 'string' && options.connector !== '' && !connectors.includes(options.connector)) {
          issues.push({ path: [...at, 'when', kind, 'connector'], message: unknown('connector', options.connector, connectors, 'connectors') });
        }
      }
    }
    const target = isRecord(def.notify) ? def.notify.connector : undefined;
    if (typeof target !== 'string' || target === '') continue;
    const path = [...at, 'notify', 'connector'];
    if (!connectors.includes(target)) {
      issues.push({ path, message: unknown('connector', target, connectors, 'connectors') });
      continue;
    }
    const c = connectorConfigs[target];
    const type = isRecord(c) ? c.type : undefined;
    if (typeof type === 'string' && !(NOTIFY_TYPES as readonly string[]).includes(type)) {
      const fit = connectors.filter((n) => isRecord(connectorConfigs[n]) && (NOTIFY_TYPES as readonly unknown[]).includes((connectorConfigs[n] as Record<string, unknown>).type));
      issues.push({
        path,
        message: `connector "${target}" is of type ${type}; alert notices go through a connector of type ${NOTIFY_TYPES.join(' or ')}${fit.length > 0 ? ` (such as ${fit.join(', ')})` : ''}`,
      });
    }
  }
  return issues;
}

function unknown(what: string, name: string, known: readonly string[], section: string): string {
  if (known.length === 0) return `unknown ${what} "${name}"; no ${section} are defined`;
  const guess = closest(name, known);
  return `unknown ${what} "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; defined ${section}: ${known.join(', ')}`;
}
