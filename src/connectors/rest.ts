/**
 * @module connectors/rest
 * A REST (HTTP/JSON) system: the transport on an undici pool, wrapped in the
 * policies of `connectors/pipeline.ts`.
 */
import { authPolicy } from '../auth/outbound/index.ts';
import { defaultClassify } from '../policies/classify.ts';
import { timeoutPolicy } from '../policies/timeout.ts';
import type { Connector } from './connector.ts';
import type { RestConnectorOptions } from './options.ts';
import { buildPipeline } from './pipeline.ts';
import { createTransport } from './transport.ts';

/**
 * @param options already parsed by `restConnectorOptions` (defaults applied).
 */
export function createRestConnector(name: string, options: RestConnectorOptions): Connector {
  const transport = createTransport(name, options);
  const auth = authPolicy(options.auth);
  const call = buildPipeline({ timeout: timeoutPolicy(name, options.timeoutMs), ...(auth ? { auth } : {}) }, transport.call);
  return {
    name,
    retry: options.retry,
    call,
    classify: (res) => defaultClassify(res.status),
    close: () => transport.close(),
  };
}
