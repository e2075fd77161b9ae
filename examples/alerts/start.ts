/**
 * @module examples/alerts/start
 * `npm run example:alerts`: a demo CRM on 127.0.0.1:4010, a demo operations
 * endpoint on 127.0.0.1:4050, and Junction on 127.0.0.1:8080 delivering orders
 * to the CRM while its alert rules watch the traffic and notify the operations
 * endpoint with signed webhooks. Ctrl-C drains and stops all three.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, startEngine } from 'junction-engine';
import { startCrm, startOps } from './systems.ts';
import { stopOnSignals } from '../lib/stop-on-signals.ts';

const configFile = fileURLToPath(new URL('./junction.yaml', import.meta.url));
const crm = await startCrm({ port: Number(process.env.CRM_PORT ?? 4010) });
// The operations endpoint holds the secret the ops-hook connector signs with, as a real receiver would.
const signing = (await loadConfig(configFile)).config.connectors['ops-hook']?.signing as { secret: { reveal(): string } };
const ops = await startOps({ secret: signing.secret.reveal(), port: Number(process.env.OPS_PORT ?? 4050) });
// Demo systems on free ports (CRM_PORT=0, OPS_PORT=0) tell Junction where they landed.
process.env.CRM_URL = crm.url;
process.env.OPS_HOOK_URL = `${ops.url}/alerts`;
const engine = await startEngine(await loadConfig(configFile), process.env.PORT ? { port: Number(process.env.PORT) } : {});

console.log(`
  Alerts example is running.
    Junction:   ${engine.url}   (POST /hooks/orders as JSON)
    Demo CRM:   ${crm.url}   (POST /outage {"down":true} starts an outage)
    Demo ops:   ${ops.url}   (GET /received lists the verified notices)

  curl -i ${engine.url}/hooks/orders -H 'content-type: application/json' -d '{"id":"A-1"}'
  curl ${crm.url}/outage -d '{"down":true}'
  for i in $(seq 1 25); do curl -s ${engine.url}/hooks/orders -H 'content-type: application/json' -d "{\\"id\\":\\"B-$i\\"}"; done
  curl ${ops.url}/received
  Press Ctrl-C to stop.
`);

stopOnSignals(() => engine.stop(), () => crm.close(), () => ops.close());
