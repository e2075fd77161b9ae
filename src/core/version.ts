/**
 * @module core/version
 * The package version, for `--version` and the outbound User-Agent.
 */
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
