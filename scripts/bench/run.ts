import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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

/**
 * A private install folder of the checkout `root`: bin/, package.json and the build scripts copied, src/, drizzle/,
 * checklists/ and node_modules/ linked; dist/ built there (the cockpit and the demo's bundles). The test suite
 * rebuilds dist/ from scratch, and a test run at the same time would otherwise pull the bundle away in the middle of a
 * benchmark. The caller removes the folder.
 */
export function privateBuild(root: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-install-'));
  for (const d of ['src', 'drizzle', 'checklists', 'node_modules']) symlinkSync(path.join(root, d), path.join(dir, d));
  for (const file of ['package.json', 'bin/cockpit.js', 'scripts/build.mjs', 'scripts/esbuild-plugins.mjs']) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(root, file), path.join(dir, file));
  }
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  return dir;
}
