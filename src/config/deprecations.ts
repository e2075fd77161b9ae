/**
 * @module config/deprecations
 * Keys kept for old configs but no longer the way to write them. A schema marks
 * one with `.meta({ deprecated: true, replacedBy: 'newKey' })`; the loader finds
 * every such key the file uses and reports it as a warning, at its line, so
 * `junction check` tells the user and `junction run` logs it, and the config
 * still loads.
 */
import type { z } from 'zod';
import { isRecord } from '../core/record.ts';
import type { KeyPath, PathIssue } from './issue.ts';
import { schemaAt, unwrapMeta } from './schema-path.ts';

interface DeprecatedMeta {
  deprecated?: boolean;
  replacedBy?: string;
}

/** A warning for every key in `value` whose schema is marked deprecated. */
export function findDeprecated(root: z.core.$ZodType, value: unknown): PathIssue[] {
  const found: PathIssue[] = [];
  const walk = (v: unknown, path: KeyPath): void => {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
    else if (isRecord(v)) {
      for (const [k, item] of Object.entries(v)) {
        const here = [...path, k];
        const meta = unwrapMeta<DeprecatedMeta>(schemaAt(root, here, value), (m) => m.deprecated === true);
        if (meta) found.push({ path: here, at: 'key', message: `deprecated${meta.replacedBy ? `: use ${meta.replacedBy}` : ''}` });
        walk(item, here);
      }
    }
  };
  walk(value, []);
  return found;
}
