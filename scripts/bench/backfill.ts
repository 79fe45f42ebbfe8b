/**
 * Benchmark: `runBackfill` (keyset batches, one transaction + checkpoint each) against one plain
 * `UPDATE t SET … WHERE <predicate>` on an identical copy of the table, in the same run.
 *
 *   node --import tsx scripts/bench/backfill.ts            full run (1M rows)
 *   node --import tsx scripts/bench/backfill.ts --quick    smoke run (100k rows)
 *
 * PostgreSQL: TEST_DATABASE_URL when set, else a throwaway cluster started like the test suite's
 * (test/helpers/postgres.ts: fsync and synchronous_commit off, so both sides measure CPU and locking, not the disk).
 * Budgets: backfill throughput ≥ 50% of the single UPDATE's, and no batch over 1 s (the longest any row lock is held).
 * It is a report, not a test: budget failures still exit 0.
 */
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { runBackfill, type BackfillDefinition } from '../../src/adapters/migrate/backfill.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { runBenchmark } from './run.js';

const QUICK = process.argv.includes('--quick');
const ROWS = QUICK ? 100_000 : 1_000_000;
const BUDGET_RATIO = 0.5;
const BUDGET_MAX_BATCH_MS = 1000;

const SET = 'price_cents = round(price * 100)';
const WHERE = 'price_cents IS NULL';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<void> {
  const t0 = performance.now();
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('bench_backfill');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      console.log(
        `backfill benchmark: ${fmt(ROWS)} rows, ${process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'throwaway cluster (fsync off)'}`,
      );
      for (const t of ['t_backfill', 't_update']) {
        await c.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, city text NOT NULL, price numeric(12,2) NOT NULL, price_cents bigint)`);
        await c.query(
          `INSERT INTO ${t} (id, city, price) SELECT i, 'city ' || (i % 500), (i::bigint * 7919 % 1000000) / 100.0 FROM generate_series(1, ${ROWS}) i`,
        );
        await c.query(`VACUUM ANALYZE ${t}`);
      }
      console.log(`  setup: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      const def: BackfillDefinition = {
        name: 'bench',
        file: 'bench.yaml',
        table: 't_backfill',
        key: 'id',
        set: SET,
        where: WHERE,
        batchSize: Number(process.argv[process.argv.indexOf('--batch-size') + 1]) || 1000,
        pauseMs: 0,
      };
      const batchMs: number[] = [];
      const r = await runBackfill(def, {
        connection: url,
        onEvent: (e) => void (e.type === 'backfill.progress' && batchMs.push(e.batchMs)),
      });
      if (r.state !== 'finished') throw new Error(`backfill ${r.state}: ${r.error}`);
      const bfSecs = r.elapsedMs / 1000;

      const tu = performance.now();
      const u = await c.query(`UPDATE t_update SET ${SET} WHERE ${WHERE}`);
      const upSecs = (performance.now() - tu) / 1000;

      const diff = Number(
        (await c.query(`SELECT count(*) AS n FROM t_backfill b FULL JOIN t_update u USING (id) WHERE b IS DISTINCT FROM u`)).rows[0].n,
      );
      const sorted = [...batchMs].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
      const bfRate = r.rowsThisRun / bfSecs;
      const upRate = (u.rowCount ?? 0) / upSecs;
      const ratio = bfRate / upRate;
      console.log(
        `\n  backfill (batches of ${def.batchSize}): ${fmt(r.rowsThisRun)} rows in ${r.batches} batches, ${bfSecs.toFixed(2)} s → ${fmt(bfRate)} rows/s`,
      );
      console.log(`     batch ms: p50 ${p(0.5).toFixed(1)}  p99 ${p(0.99).toFixed(1)}  max ${r.maxBatchMs.toFixed(1)}`);
      console.log(
        `  single UPDATE:                 ${fmt(u.rowCount ?? 0)} rows in one statement, ${upSecs.toFixed(2)} s → ${fmt(upRate)} rows/s (every row locked for ${(upSecs * 1000).toFixed(0)} ms)`,
      );
      console.log(`  same result: ${diff === 0 ? 'yes' : `NO — ${diff} rows differ`}`);
      console.log(
        `\n  ${verdict(ratio >= BUDGET_RATIO)}  throughput ratio backfill / single UPDATE = ${(ratio * 100).toFixed(0)}% (budget ≥ ${BUDGET_RATIO * 100}%)`,
      );
      console.log(
        `  ${verdict(r.maxBatchMs <= BUDGET_MAX_BATCH_MS)}  longest batch ${r.maxBatchMs.toFixed(1)} ms (budget ≤ ${BUDGET_MAX_BATCH_MS} ms)`,
      );
      console.log(`  total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      await c.end();
    }
  } finally {
    await server.stop();
  }
}

runBenchmark(main);
