/**
 * @module examples/order-pipeline/start
 * `npm run example:order-pipeline`: the demo systems on 127.0.0.1:4020 and Junction on 127.0.0.1:8080 with the
 * order pipeline. Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startDemoSystems } from './systems.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
const systems = await startDemoSystems({ port: Number(process.env.SYSTEMS_PORT ?? 4020) });
// Systems on a free port (SYSTEMS_PORT=0) tell Junction where they landed.
process.env.SYSTEMS_PORT = new URL(systems.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  Order pipeline is running.
    Junction: ${engine.url}   (POST /erp/orders as XML, POST /quotes as JSON)
    Systems:  ${systems.url}

  curl -i ${engine.url}/erp/orders -H 'content-type: application/xml' \\
    -d '<Order id="A-1"><Customer><Email>Ada@Example.com</Email></Customer><Lines><Line sku="SKU-1" qty="2" price="12.50"/><Line sku="SKU-2" qty="1" price="4"/></Lines></Order>'
  curl ${systems.url}/inventory/reservations
  curl ${engine.url}/quotes -H 'content-type: application/json' -d '{"sku":"SKU-1","qty":3}'
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => systems.close());
