/**
 * Redaction by name (headers, keys, query parameters) and by value (the
 * config's resolved secrets, whole or quoted in part), in logs, stored
 * outcomes and shown records.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Secret } from '../../src/core/secret.ts';
import { causeChain, errors } from '../../src/core/errors.ts';
import type { Outcome } from '../../src/core/message.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { forDisplay, maskFields } from '../../src/observability/mask.ts';
import { noScrub, redactHeaders, redactUrl, scrubber, secretScrub, secretValues } from '../../src/observability/redact.ts';
import { scrubOutcome } from '../../src/observability/scrub-outcome.ts';

describe('scrubber', () => {
  const scrub = scrubber(['sk_live_4f9a8b7c6d', 'quo"te\\key', 'abc']);

  it('cuts each value, also as escaped inside a JSON string', () => {
    assert.equal(scrub('key sk_live_4f9a8b7c6d refused, again sk_live_4f9a8b7c6d'), 'key [redacted] refused, again [redacted]');
    assert.equal(scrub(JSON.stringify({ msg: 'got quo"te\\key' })), '{"msg":"got [redacted]"}');
  });

  it('cuts a quoted piece of a value, bare or inside a JSON string, even after an earlier quote', () => {
    assert.equal(scrub(`Unexpected token 's', "sk_live_4f"... is not valid JSON`), `Unexpected token 's', "[redacted]"... is not valid JSON`);
    const line = JSON.stringify({ msg: `dead letter: Unexpected token 's', "sk_live_4f"... is not valid JSON` });
    assert.ok(!scrub(line).includes('sk_live_4f'), scrub(line));
    assert.equal(scrub('"short" and "unrelated text"'), '"short" and "unrelated text"');
  });

  it('leaves values under four characters alone, and is a no-op without values', () => {
    assert.equal(scrub('abc'), 'abc');
    assert.equal(scrubber([]), noScrub);
  });

  it('finds every secret of a config, with basic credentials in their wire form, and follows a changed value', () => {
    let current = 'first-value';
    // A secret that follows a file reveals its file's current value.
    const rotating = new (class extends Secret {
      override reveal(): string {
        return current;
      }
    })('first-value');
    const config = { a: { bearer: new Secret('tok-1234') }, b: [{ username: 'u', password: new Secret('pw-5678') }], c: rotating, plain: 'not-secret' };
    assert.deepEqual(secretValues(config), ['tok-1234', Buffer.from('u:pw-5678').toString('base64'), 'pw-5678', 'first-value']);
    const live = secretScrub(config);
    assert.equal(live('first-value second-value'), '[redacted] second-value');
    current = 'second-value';
    assert.equal(live('first-value second-value'), 'first-value [redacted]');
  });
});

describe('redaction by name', () => {
  it('hides credential headers and credential query values', () => {
    assert.deepEqual(redactHeaders({ Authorization: 'Bearer x', cookie: 'a=b', 'x-trace': 't' }), { Authorization: '[redacted]', cookie: '[redacted]', 'x-trace': 't' });
    assert.equal(redactUrl('/hooks?token=abc&page=2&api_key=k&sig=s'), '/hooks?token=[redacted]&page=2&api_key=[redacted]&sig=[redacted]');
    assert.equal(redactUrl('https://user:pw@host.example/p?q=1'), 'https://[redacted]@host.example/p?q=1');
    assert.equal(redactUrl('/plain/path'), '/plain/path');
  });

  it('keeps credential headers, secret keys and secret values out of log lines', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) });
    const logger = createLogger({ destination, scrub: scrubber(['sk_live_4f9a8b7c6d']) });
    logger.info({ headers: { authorization: 'Bearer a1', 'x-api-key': 'k2' }, req: { headers: { cookie: 'c3' } } }, 'request');
    logger.info({ auth: { password: 'p4', clientSecret: 'cs5' }, token: 't6' }, 'options');
    logger.warn({ err: errors.HTTP_REJECTED.create(['crm', 400], { response: { status: 400, headers: { 'set-cookie': 's7' }, bodyExcerpt: 'bad key sk_live_4f9a8b7c6d' } }) }, 'answer echoed sk_live_4f9a8b7c6d');
    const out = lines.join('');
    for (const leaked of ['a1', 'k2', 'c3', 'p4', 'cs5', 't6', 's7', 'sk_live_4f9a8b7c6d']) assert.ok(!out.includes(`"${leaked}"`) && !out.includes(` ${leaked}`), `${leaked} in ${out}`);
    assert.match(out, /answer echoed \[redacted\]/);
  });
});

describe('masked fields', () => {
  const body = { card: { number: '4111', cvc: 123 }, items: [{ iban: 'GB11' }, { iban: 'GB22' }], keep: 'yes' };

  it('masks by dot path, through arrays and wildcards, and returns the values masked', () => {
    const masked = maskFields(body, ['card.number', 'items.iban', 'card.*', 'missing.field']);
    assert.deepEqual(masked.body, { card: { number: '[redacted]', cvc: '[redacted]' }, items: [{ iban: '[redacted]' }, { iban: '[redacted]' }], keep: 'yes' });
    assert.deepEqual(masked.values.sort(), ['123', '4111', 'GB11', 'GB22']);
    assert.deepEqual(maskFields(body, ['items.1.iban']).body, { ...body, items: [{ iban: 'GB11' }, { iban: '[redacted]' }] });
    assert.equal(body.card.number, '4111', 'the original is untouched');
  });

  it('shows a record with masked fields, values cut from its texts, credential headers and query values hidden', () => {
    const record = { body, headers: { 'x-api-key': 'k', accept: '*/*' }, meta: { path: '/h?token=t1' }, error: 'field card.number: "4111" is not a date', history: [{ error: 'GB22 rejected' }] };
    const shown = forDisplay(record, ['card.number', 'items.iban']);
    assert.equal(shown.error, 'field card.number: "[redacted]" is not a date');
    assert.deepEqual(shown.history, [{ error: '[redacted] rejected' }]);
    assert.deepEqual(shown.headers, { 'x-api-key': '[redacted]', accept: '*/*' });
    assert.deepEqual(shown.meta, { path: '/h?token=[redacted]' });
  });
});

describe('scrubOutcome', () => {
  it('cuts secrets out of the error, its causes and the response, keeping codes and the cause chain', () => {
    const response = { status: 401, headers: { 'www-authenticate': 'Bearer error_description="sk_live_4f9a8b7c6d"' }, bodyExcerpt: 'key sk_live_4f9a8b7c6d' };
    const cause = new Error('upstream said sk_live_4f9a8b7c6d');
    const error = errors.AUTH_REFUSED.create(['crm', 401], { response, cause, status: 401 });
    const outcome: Outcome = { kind: 'dead', error, lastResponse: response };
    const out = scrubOutcome(outcome, scrubber(['sk_live_4f9a8b7c6d'])) as Outcome & { kind: 'dead' };
    assert.equal(out.error.code, 'JNC_AUTH_REFUSED');
    assert.equal(out.error.family, 'permanent');
    assert.equal(out.error.status, 401);
    assert.deepEqual(causeChain(out.error), ['JNC_AUTH_REFUSED: Connector crm refused the credentials (401)', 'upstream said [redacted]']);
    assert.ok(!JSON.stringify([out.lastResponse, out.error.response]).includes('sk_live'));
    assert.equal(out.lastResponse?.bodyExcerpt, 'key [redacted]');
    assert.equal(scrubOutcome(outcome, noScrub), outcome);
  });

  it('keeps every other field of the error: retryAfterMs, details and the headers an answer would send (scrubbed too)', () => {
    const error = errors.HTTP_RETRYABLE.create(['crm', 429], {
      cause: new Error('sk_live_4f9a8b7c6d'),
      retryAfterMs: 3000,
      details: { attempt: 2 },
      headers: { 'retry-after': '3', 'x-echo': 'sk_live_4f9a8b7c6d' },
    });
    const out = scrubOutcome({ kind: 'retry', at: 0, error, spendAttempt: true }, scrubber(['sk_live_4f9a8b7c6d'])) as Outcome & { kind: 'retry' };
    assert.notEqual(out.error, error);
    assert.equal(out.error.code, 'JNC_HTTP_RETRYABLE');
    assert.equal(out.error.retryable, true);
    assert.equal(out.error.retryAfterMs, 3000);
    assert.deepEqual(out.error.details, { attempt: 2 });
    assert.deepEqual(out.error.headers, { 'retry-after': '3', 'x-echo': '[redacted]' });
  });
});
