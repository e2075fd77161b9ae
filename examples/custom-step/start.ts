/**
 * @module examples/custom-step/start
 * `npm run example:custom-step`: the demo sales tool on 127.0.0.1:4020 and
 * Junction on 127.0.0.1:8080, scoring leads with steps/score.ts on the way.
 * Ctrl-C drains and stops both.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startDemoSales } from './sales.ts';

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

// `npm start` runs this with `exec`, so npm's own forwarded signal reaches this process (no
// shell in between that would die and leave it running). A Ctrl-C in a terminal thus arrives
// twice, from the terminal and from npm: a repeat is not a request to hurry. The drain is
// bounded by worker.drainMs anyway.
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await engine.stop();
  await sales.close();
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
