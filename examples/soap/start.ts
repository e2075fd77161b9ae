/**
 * @module examples/soap/start
 * `npm run example:soap`: a demo ERP speaking SOAP on 127.0.0.1:4040 and
 * Junction on 127.0.0.1:8080, delivering orders to it. Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startDemoErp } from './erp-server.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
process.env.ERP_PASSWORD ??= 'demo-password';
const erp = await startDemoErp({ port: Number(process.env.ERP_PORT ?? 4040), username: 'junction', password: process.env.ERP_PASSWORD });
// An ERP on a free port (ERP_PORT=0) tells Junction where it landed.
process.env.ERP_PORT = new URL(erp.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  SOAP example is running.
    Junction: ${engine.url}   (POST /orders, POST /stock as JSON)
    Demo ERP: ${erp.url}   (SOAP at /erp/soap11, orders taken at GET /orders)

  curl -i ${engine.url}/orders -H 'content-type: application/json' -d '{"id":"A-1","sku":"SKU-1","qty":2}'
  curl ${erp.url}/orders
  curl ${engine.url}/stock -H 'content-type: application/json' -d '{"sku":"SKU-1"}'
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => erp.close());
