// The traffic generator's process (bundled as dist/demo-traffic.js): see ./traffic.ts.
import { trafficMain } from './traffic.js';

process.exitCode = await trafficMain(process.argv.slice(2));
