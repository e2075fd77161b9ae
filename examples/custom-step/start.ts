/**
 * @module examples/custom-step/start
 * `npm run example:custom-step`: the demo sales tool on 127.0.0.1:4020 and
 * Junction on 127.0.0.1:8080, scoring leads with steps/score.ts on the way.
 * Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startDemoSales } from './sales.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
const sales = await startDemoSales({ port: Number(process.env.SALES_PORT ?? 4020) });
// A sales tool on a free port (SALES_PORT=0) tells Junction where it landed.
process.env.SALES_PORT = new URL(sales.url).port;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  Junction custom-step example is running.
    Junction: ${engine.url}   (flow score-leads at POST /hooks/leads)
    Sales:    ${sales.url}

  Post a lead:
    curl -i ${engine.url}/hooks/leads -H 'content-type: application/json' \\
      -d '{"email":"Ada@Analytical.Engines","company":"Analytical Engines","employees":250,"source":"referral"}'

  See it arrive, scored:  curl ${sales.url}/leads
  Post one without an email, then see the dead letter:
    npm run junction -- dlq list -c examples/custom-step/junction.yaml
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => sales.close());
