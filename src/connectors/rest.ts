/**
 * @module connectors/rest
 * A REST (HTTP/JSON) system: the transport on an undici pool, wrapped in the
 * policies of `connectors/pipeline.ts`.
 */
import { outboundAuth } from '../auth/outbound/index.ts';
import { defaultClassify } from '../policies/classify.ts';
import { timeoutPolicy } from '../policies/timeout.ts';
import type { Connector, ConnectorDeps } from './connector.ts';
import type { RestConnectorOptions } from './options.ts';
import { buildPipeline } from './pipeline.ts';
import { createTransport } from './transport.ts';

/**
 * @param options already parsed by `restConnectorOptions` (defaults applied).
 * @param deps the store's tokens and the clock, for OAuth 2.0.
 */
export function createRestConnector(name: string, options: RestConnectorOptions, deps: ConnectorDeps = {}): Connector {
  const transport = createTransport(name, options);
  const auth = outboundAuth(options.auth, { connector: name, timeoutMs: options.timeoutMs, tokens: deps.tokens, clock: deps.clock });
  const call = buildPipeline({ timeout: timeoutPolicy(name, options.timeoutMs), ...(auth ? { auth: auth.policy } : {}) }, transport.call);
  const refresh = auth?.refresh;
  return {
    name,
    retry: options.retry,
    call,
    classify: (res) => defaultClassify(res.status),
    ...(refresh ? { refreshCredentials: (res, ctx) => refresh(res, ctx.signal) } : {}),
    close: () => {
      auth?.close?.();
      return transport.close();
    },
  };
}
