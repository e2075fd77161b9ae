/**
 * @module core/secret-field
 * The zod type of a config field that holds a secret: a string in the file
 * (usually `${env:NAME}` or `${file:path}`, resolved before validation), a
 * {@link Secret} once parsed; one read from a whole `${file:path}` follows its
 * file (core/secret-file).
 */
import { z } from 'zod';
import { secretFor } from './secret-file.ts';

export const secret = z
  .string()
  .min(1, 'must not be empty')
  .transform((v) => secretFor(v))
  .meta({ secret: true });
