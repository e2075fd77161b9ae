/**
 * @module connectors/transport-error
 * Turns what undici or the socket throws into the few errors a call may reject
 * with (JNC_CONN_TIMEOUT, JNC_CONN_NETWORK, JNC_SHUTDOWN), keeping the original
 * as `cause` for the logs and the dead letter.
 */
import { abortError } from '../core/abort.ts';
import { errors, isJunctionError, type JunctionError } from '../core/errors.ts';

/** The limits in force for one call, quoted in timeout messages. */
export interface TransportLimits {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxResponseBytes: number;
}

/**
 * @param signal the call's signal: once it has aborted, the abort explains the
 *   failure whatever undici reports ({@link abortError}, with undici's error as cause).
 */
export function transportError(connector: string, err: unknown, signal: AbortSignal, limits: TransportLimits): JunctionError {
  if (signal.aborted) return abortError(signal, err);
  if (isJunctionError(err)) return err;
  switch (errorCode(err)) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return errors.CONN_TIMEOUT.create([connector, 'connect', limits.connectTimeoutMs], { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return errors.CONN_TIMEOUT.create([connector, 'headers', limits.headersTimeoutMs], { cause: err });
    case 'UND_ERR_BODY_TIMEOUT':
      return errors.CONN_TIMEOUT.create([connector, 'body', limits.bodyTimeoutMs], { cause: err });
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return errors.CONN_NETWORK.create([connector, `response larger than maxResponseBytes (${limits.maxResponseBytes})`], { cause: err });
    // The pool is closed only on shutdown; a call that races it goes back to the queue.
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return errors.SHUTDOWN.create([], { cause: err });
    default:
      // ECONNRESET, ECONNREFUSED, EPIPE, ENOTFOUND, UND_ERR_SOCKET, a parser error…:
      // the far side may answer next time.
      return errors.CONN_NETWORK.create([connector, describe(err)], { cause: err });
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy eyeballs (autoSelectFamily) reports a refused connection as an AggregateError.
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  if (code === undefined) return err.message;
  return err.message.includes(code) ? err.message : `${code} ${err.message}`.trim();
}
