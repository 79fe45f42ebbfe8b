/**
 * Start-up: `cockpit --version` beside `node -e 0`, measured in the same run (DESIGN.md §7: ≤ 2x).
 * The screens issue adds the time to the first frame of the home screen here.
 *
 *   node --import tsx scripts/bench/startup.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;

function time(args: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i >= 3) out.push(ms); // the first three warm the file cache
  }
  return out.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
const base = time(['-e', '0']);
const version = time(['bin/cockpit.js', '--version']);
console.log(`startup benchmark · ${os.cpus().length} CPU(s) · node ${process.version} · ${runs} runs each · load ${os.loadavg()[0].toFixed(2)}`);
console.log(`  node -e 0                   p50 ${pct(base, 50).toFixed(1)} ms   p90 ${pct(base, 90).toFixed(1)} ms`);
console.log(`  cockpit --version           p50 ${pct(version, 50).toFixed(1)} ms   p90 ${pct(version, 90).toFixed(1)} ms`);
const ratio = pct(version, 50) / pct(base, 50);
console.log(`  ratio (p50)                 ${ratio.toFixed(2)}x   budget ≤ 2x: ${ratio <= 2 ? 'PASS' : 'FAIL'}`);
