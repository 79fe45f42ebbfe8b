import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Run a benchmark's main: exit 0 once it has reported (budgets are reported, not enforced); a crash is not a measurement, so it says so loudly and exits 1. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error('\nBENCHMARK ERROR: the benchmark could not run to the end');
      console.error(e);
      process.exit(1);
    },
  );
}

/** A child process measured: wall time from spawn to exit, its peak RSS, its exit code and what it printed. */
export interface MeasuredChild {
  ms: number;
  rssMb: number;
  stdout: Buffer;
  status: number | null;
}

/** Prints the process's peak RSS on stderr as it exits (preloaded with --import). */
const RSS_HOOK = `process.on('exit', () => process.stderr.write('\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n'));`;

/**
 * Run `node <args>` in `cwd` and measure it; its exit code must be one of `ok` (default 0), else the benchmark stops
 * with what it said.
 */
export function measureChild(args: string[], cwd: string, ok: number[] = [0]): MeasuredChild {
  const hook = path.join(cwd, 'rss-hook.mjs');
  writeFileSync(hook, RSS_HOOK);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, ...args], { cwd, encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const stderr = r.stderr.toString();
  if (!ok.includes(r.status ?? -1)) throw new Error(`${args.join(' ')} exited ${r.status}: ${stderr.slice(0, 500)}`);
  return { ms, rssMb: Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? 0) / 1024, stdout: r.stdout, status: r.status };
}
