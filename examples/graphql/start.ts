/**
 * @module examples/graphql/start
 * `npm run example:graphql`: the demo shop (graphql-yoga) on 127.0.0.1:4030 and Junction on 127.0.0.1:8080,
 * delivering orders to it as a GraphQL mutation. Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startShop } from '../../test/fixtures/graphql/shop-server.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
const shop = await startShop({ port: Number(process.env.SHOP_PORT ?? 4030) });
// A shop on a free port (SHOP_PORT=0) tells Junction where it landed.
process.env.SHOP_PORT = new URL(shop.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  GraphQL example is running.
    Junction:   ${engine.url}   (POST /orders as JSON)
    Demo shop: ${shop.endpoint}

  curl -i ${engine.url}/orders -H 'content-type: application/json' \\
    -d '{"id":"A-1","customer":{"email":"Ada@Example.com"},"items":[{"price":12.5,"qty":2}]}'
  curl ${shop.endpoint} -H 'content-type: application/json' -d '{"query":"{ order(id: \\"A-1\\") { id email total } }"}'
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => shop.close());
