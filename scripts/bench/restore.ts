/**
 * Benchmark: `cockpit db restore --jobs 2` of a generated database against one plain `pg_restore --clean
 * --if-exists` (one job) of the same dump, in the same run, and against the policy's full-restore objective (2 h).
 *
 *   node --import tsx scripts/bench/restore.ts            full run (about 1 GB of table data)
 *   node --import tsx scripts/bench/restore.ts --quick    smoke run (about 100 MB)
 *
 * The cockpit's restore does more than pg_restore: it checks the dump's sha256 first and, after, counts every
 * table's rows and runs pg_amcheck when the amcheck extension is there (it is, here). Both restores run over the
 * same database, from the dump `cockpit db backup` took. PostgreSQL: a throwaway cluster started like the test
 * suite's (test/helpers/postgres.ts: fsync off, so the disk's flush speed does not decide). A report, not a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { findPostgresBinDir, startPostgres } from '../../test/helpers/postgres.js';
import { runBenchmark } from './run.js';

const QUICK = process.argv.includes('--quick');
/** Rows of each of the four tables: ~250 bytes a row with its index, so 4 × 1M ≈ 1 GB. */
const ROWS = QUICK ? 100_000 : 1_000_000;
const OBJECTIVE_MS = 2 * 60 * 60_000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'cockpit.js');

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function timed(argv: string[], env: Record<string, string>, cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).slice(-800)}`);
  return ms;
}

runBenchmark(async () => {
  const server = await startPostgres();
  const repo = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-restore-'));
  try {
    spawnSync('git', ['init', '-q', repo]);
    const url = await server.createDatabase('bench_restore');
    const c = new pg.Client({ connectionString: url });
    c.on('error', (e) => console.error(`the benchmark's PostgreSQL connection failed: ${e.message}`));
    await c.connect();
    const t0 = performance.now();
    await c.query('CREATE EXTENSION amcheck');
    for (const t of ['listings', 'bookings', 'payments', 'events']) {
      await c.query(
        `CREATE TABLE ${t} (id bigint PRIMARY KEY, owner bigint NOT NULL, amount numeric(12,2), state text, body text, at timestamptz NOT NULL)`,
      );
      await c.query(
        `INSERT INTO ${t} SELECT i, i % 50000, (i::bigint * 7919 % 1000000) / 100.0, 'state ' || (i % 7), md5(i::text) || md5((i * 3)::text) || repeat('x', 100 + i % 50), now() - (i || ' seconds')::interval FROM generate_series(1, ${ROWS}) i`,
      );
      await c.query(`CREATE INDEX ${t}_owner ON ${t} (owner)`);
    }
    const size = Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    await c.end();
    console.log(
      `restore benchmark: 4 tables × ${ROWS.toLocaleString('en-US')} rows, database ${(size / 1e9).toFixed(2)} GB (generated in ${s(performance.now() - t0)})`,
    );

    const env = { DATABASE_URL: url };
    const backupMs = timed(['node', BIN, '--repo', repo, 'db', 'backup'], env, repo);
    const dump = spawnSync('sh', ['-c', `ls ${repo}/.cockpit/backups/*.dump`], { encoding: 'utf8' }).stdout.trim();
    console.log(`  cockpit db backup (pg_dump -Fc, counts in its snapshot): ${s(backupMs)}`);

    const plainMs = timed(
      [path.join(findPostgresBinDir()!, 'pg_restore'), '--clean', '--if-exists', '--no-owner', '-d', url, dump],
      {},
      repo,
    );
    const cockpitMs = timed(['node', BIN, '--repo', repo, 'db', 'restore', 'latest', '--yes', '--jobs', '2'], env, repo);
    console.log(`  pg_restore, one job (baseline):                  ${s(plainMs)}`);
    console.log(
      `  cockpit db restore --jobs 2 (sha256, restore, row counts, pg_amcheck): ${s(cockpitMs)}  → ${(cockpitMs / plainMs).toFixed(2)}x the plain restore`,
    );
    console.log(
      `  against the full-restore objective (2 h): ${((cockpitMs / OBJECTIVE_MS) * 100).toFixed(2)}% of it` +
        ` (${(OBJECTIVE_MS / cockpitMs).toFixed(0)}x margin at this size; a database ${(OBJECTIVE_MS / cockpitMs).toFixed(0)}x larger would still fit, at this machine's speed)`,
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
    await server.stop();
  }
});
