/**
 * @module config/secret-field
 * The zod type of a config field that holds a secret: a string in the file
 * (usually `${env:NAME}` or `${file:path}`, resolved before validation), a
 * {@link Secret} once parsed.
 */
import { z } from 'zod';
import { Secret } from './secret.ts';

export const secret = z
  .string()
  .min(1, 'must not be empty')
  .transform((v) => new Secret(v))
  .meta({ secret: true });
