/**
 * @module examples/webhook/start
 * `npm run example:webhook`: a demo partner on 127.0.0.1:4040 and Junction on 127.0.0.1:8080, delivering
 * orders to the partner as signed webhooks. Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startPartner } from './partner.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
// The partner holds the newer of the two secrets the connector signs with, as in the middle of a rotation.
const signing = (await loadConfig(configFile)).config.connectors.partner?.signing as { secrets: { reveal(): string }[] };
const partner = await startPartner({ secret: signing.secrets.at(-1)!.reveal(), port: Number(process.env.PARTNER_PORT ?? 4040) });
// A partner on a free port (PARTNER_PORT=0) tells Junction where it landed.
process.env.PARTNER_PORT = new URL(partner.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  Outbound webhook example is running.
    Junction:      ${engine.url}   (POST /orders as JSON)
    Demo partner: ${partner.url}   (GET /received lists what it verified)

  curl -i ${engine.url}/orders -H 'content-type: application/json' \\
    -d '{"id":"A-1","status":"created","items":[{"price":12.5,"qty":2}]}'
  curl -i ${engine.url}/orders -H 'content-type: application/json' \\
    -d '{"id":"A-2","status":"created","items":[{"price":4,"qty":1}],"flaky":true}'
  curl ${partner.url}/received
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => partner.close());
