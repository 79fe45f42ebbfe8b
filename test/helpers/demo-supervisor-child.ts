// A stand-in for the cockpit that runs the demo (test/integration/demo-supervisor.test.ts): starts the demo's
// services in the sandbox given as argv[2], prints its progress and then one line `READY <json>` (what each service
// reported), and stays up until it is killed. Run with `node --import tsx`. DEMO_SERVICES (names, comma-separated)
// starts only those of the demo's services.
import { demoServices, startAll } from '../../src/demo/supervisor.js';

const dir = process.argv[2];
try {
  const only = process.env.DEMO_SERVICES?.split(',');
  const services = only ? demoServices().filter((s) => only.includes(s.name)) : undefined;
  const r = await startAll({ dir, services, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`READY ${JSON.stringify(r)}\n`);
  setInterval(() => {}, 60_000);
} catch (e) {
  process.stdout.write(`FAILED ${(e as Error).message}\n`);
  process.exit(1);
}
