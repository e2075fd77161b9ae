/**
 * @module examples/quickstart/start
 * `npm start`: the demo CRM on 127.0.0.1:4010 and Junction on 127.0.0.1:8080,
 * on the embedded store, with no network needed. Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { startEngine } from '../../src/engine/engine.ts';
import { startDemoCrm } from './crm.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

// The demo CRM and junction.yaml agree on these fallbacks; the tests move them with the environment.
process.env.CRM_API_KEY ??= 'demo-key';
const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
const crm = await startDemoCrm({ port: Number(process.env.CRM_PORT ?? 4010), apiKey: process.env.CRM_API_KEY });
// A CRM on a free port (CRM_PORT=0) tells Junction where it landed.
process.env.CRM_PORT = new URL(crm.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  Junction quickstart is running.
    Junction: ${engine.url}   (flow orders-to-crm at POST /hooks/orders)
    Demo CRM: ${crm.url}

  Post an order:
    curl -i ${engine.url}/hooks/orders -H 'content-type: application/json' \\
      -d '{"id":"A-1001","customer":{"email":"Ada@Example.com"},"items":[{"price":12.5,"qty":2}]}'

  See it arrive:      curl ${crm.url}/orders
  Make the CRM fail:  curl -X POST '${crm.url}/_fail?status=400'   (or 503; status=off to recover)
  Dead letters:       npm run junction -- dlq list -c examples/quickstart/junction.yaml
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => crm.close());
