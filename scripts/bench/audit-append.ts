/**
 * Benchmark: appending to the audit log (SqliteAuditStore) against raw better-sqlite3 on the same pragmas.
 *
 *   node --import tsx scripts/bench/audit-append.ts            full run
 *   node --import tsx scripts/bench/audit-append.ts --quick    smoke run (small N)
 *
 * Measures, on real files in a fresh temp directory (removed at the end):
 *   1. durable single appends through the store (one event per append(), one transaction each): p50/p99/max
 *   2. baseline: raw single-row autocommit INSERTs (WAL, synchronous=FULL):                       p50/p99/max
 *   3. bulk appends through the store (batches of 1,000 events per append()):                     events/s
 *   4. baseline: raw INSERTs of the same rows, prepared statement, transactions of 1,000:          events/s
 * and prints PASS/FAIL against the budgets. It is a report, not a test: budget failures still exit 0.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { SessionHeader } from '../../src/audit/hash.js';
import { bundleSha } from '../../src/core/checklist/bundle.js';
import type { NewEvent } from '../../src/core/events.js';
import { runBenchmark } from './run.js';

// ---------------------------------------------------------------------------------------------- settings

const QUICK = process.argv.includes('--quick');

const SINGLE_N = QUICK ? 200 : 2000;
const SINGLE_WARMUP = QUICK ? 20 : 200;
const BULK_TOTAL = QUICK ? 20_000 : 200_000;
const BULK_BATCH = 1000;
const BULK_WARMUP_BATCHES = QUICK ? 2 : 10;

const BUDGET_SINGLE_P99_MS = 5;
const BUDGET_BULK_RATIO = 0.5;
const BUDGET_BULK_MIN_EPS = 50_000;

// Same DDL as drizzle/sqlite's `events` table, so the baselines pay for the same primary-key index.
const EVENTS_DDL = `CREATE TABLE events (
  session_id text NOT NULL,
  seq integer NOT NULL,
  time integer NOT NULL,
  type text NOT NULL,
  step_id text,
  actor text NOT NULL,
  data text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY(session_id, seq)
)`;

// ---------------------------------------------------------------------------------------------- fixtures

const here = path.dirname(fileURLToPath(import.meta.url));

function checklistYaml(): string {
  try {
    return readFileSync(path.join(here, '..', '..', 'checklists', 'release.yaml'), 'utf8');
  } catch {
    return 'id: release\ntitle: Bi-weekly release\nsteps:\n  - id: tests\n    title: Run the tests\n    kind: command\n    run: npm test\n';
  }
}

function makeSession(): { header: SessionHeader; first: NewEvent<'session.started'> } {
  const text = checklistYaml();
  const sources = { release: text };
  const sha = bundleSha(sources);
  const startedAt = Date.now();
  const header: SessionHeader = {
    id: randomUUID(),
    checklistId: 'release',
    checklistTitle: 'Bi-weekly release',
    checklistText: text,
    checklistSources: sources,
    checklistSha256: sha,
    params: { version: '2.3.1' },
    environment: 'staging',
    operator: 'alice',
    host: 'bench-host',
    startedAt,
  };
  const first: NewEvent<'session.started'> = {
    type: 'session.started',
    time: startedAt,
    data: {
      checklist: { id: 'release', title: 'Bi-weekly release', sha256: sha },
      origin: { file: 'checklists/release.yaml', byId: true },
      params: { version: '2.3.1' },
      environment: 'staging',
      operator: 'alice',
      host: 'bench-host',
      pid: process.pid,
      mode: 'non-interactive',
      version: '0.1.0',
      plan: [],
      scopes: {},
    },
  };
  return { header, first };
}

/** A realistic line of test-runner output, ~120 characters; `i` keeps lines distinct. */
function outputLine(i: number): string {
  const n = String(i).padStart(7, '0');
  return ` ✓ test/unit/audit/sqlite.test.ts > SqliteAuditStore > appends events in order and chains their hashes #${n} 12ms`;
}

function outputEvent(i: number): NewEvent<'step.output'> {
  return { type: 'step.output', stepId: 'tests', data: { stream: 'stdout', text: outputLine(i) } };
}

// A pool of 64-hex strings for the raw baselines' prev_hash/hash columns (same size as real sha256 hex).
const HEX_POOL = Array.from({ length: 1024 }, () => randomBytes(32).toString('hex'));

interface RawRow {
  session_id: string;
  seq: number;
  time: number;
  type: string;
  step_id: string | null;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

function rawRow(sessionId: string, seq: number): RawRow {
  return {
    session_id: sessionId,
    seq,
    time: Date.now(),
    type: 'step.output',
    step_id: 'tests',
    actor: 'cockpit',
    data: JSON.stringify({ stream: 'stdout', text: outputLine(seq) }),
    prev_hash: HEX_POOL[(seq - 1) & 1023],
    hash: HEX_POOL[seq & 1023],
  };
}

function openRaw(file: string): { db: Database.Database; insert: Database.Statement } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(EVENTS_DDL);
  const insert = db.prepare(
    'INSERT INTO events (session_id, seq, time, type, step_id, actor, data, prev_hash, hash) ' +
      'VALUES (@session_id, @seq, @time, @type, @step_id, @actor, @data, @prev_hash, @hash)',
  );
  return { db, insert };
}

// ---------------------------------------------------------------------------------------------- stats

interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, p50: rank(0.5), p99: rank(0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

interface Throughput {
  events: number;
  seconds: number;
  eps: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------------------------- runs

async function singleStore(dir: string): Promise<Latency> {
  const store = new SqliteAuditStore(path.join(dir, 'single-store.db'));
  try {
    const { header, first } = makeSession();
    await store.createSession(header, first);
    let i = 0;
    for (let w = 0; w < SINGLE_WARMUP; w++) await store.append(header.id, [outputEvent(++i)]);
    gc?.();
    const samples: number[] = [];
    for (let k = 0; k < SINGLE_N; k++) {
      const ev = outputEvent(++i);
      const t0 = performance.now();
      await store.append(header.id, [ev]);
      samples.push(performance.now() - t0);
    }
    return latency(samples);
  } finally {
    await store.close();
  }
}

function singleRaw(dir: string): Latency {
  const { db, insert } = openRaw(path.join(dir, 'single-raw.db'));
  try {
    const sid = randomUUID();
    let seq = 0;
    for (let w = 0; w < SINGLE_WARMUP; w++) insert.run(rawRow(sid, ++seq));
    gc?.();
    const samples: number[] = [];
    for (let k = 0; k < SINGLE_N; k++) {
      const row = rawRow(sid, ++seq);
      const t0 = performance.now();
      insert.run(row); // autocommit: one durable transaction per row
      samples.push(performance.now() - t0);
    }
    return latency(samples);
  } finally {
    db.close();
  }
}

async function bulkStore(dir: string): Promise<Throughput> {
  const store = new SqliteAuditStore(path.join(dir, 'bulk-store.db'));
  try {
    const { header, first } = makeSession();
    await store.createSession(header, first);
    let i = 0;
    const batch = () => Array.from({ length: BULK_BATCH }, () => outputEvent(++i));
    for (let w = 0; w < BULK_WARMUP_BATCHES; w++) await store.append(header.id, batch());
    gc?.();
    const batches = Math.ceil(BULK_TOTAL / BULK_BATCH);
    // Build the input outside the timed region: the store's cost is what is measured, not the fixture's.
    const inputs = Array.from({ length: batches }, batch);
    const t0 = performance.now();
    for (const b of inputs) await store.append(header.id, b);
    const seconds = (performance.now() - t0) / 1000;
    const events = batches * BULK_BATCH;
    return { events, seconds, eps: events / seconds };
  } finally {
    await store.close();
  }
}

function bulkRaw(dir: string): Throughput {
  const { db, insert } = openRaw(path.join(dir, 'bulk-raw.db'));
  try {
    const sid = randomUUID();
    let seq = 0;
    const batch = () => Array.from({ length: BULK_BATCH }, () => rawRow(sid, ++seq));
    const insertMany = db.transaction((rows: RawRow[]) => {
      for (const r of rows) insert.run(r);
    });
    for (let w = 0; w < BULK_WARMUP_BATCHES; w++) insertMany.immediate(batch());
    gc?.();
    const batches = Math.ceil(BULK_TOTAL / BULK_BATCH);
    // Rows (JSON text included) are built outside the timed region: this is the SQLite floor.
    const inputs = Array.from({ length: batches }, batch);
    const t0 = performance.now();
    for (const b of inputs) insertMany.immediate(b);
    const seconds = (performance.now() - t0) / 1000;
    const events = batches * BULK_BATCH;
    return { events, seconds, eps: events / seconds };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------- report

const ms = (v: number) => v.toFixed(3).padStart(9);
const int = (v: number) => Math.round(v).toLocaleString('en-US').padStart(11);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

function machine(): string[] {
  const cpus = os.cpus();
  let sqliteVersion = '?';
  try {
    const db = new Database(':memory:');
    sqliteVersion = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
  } catch {
    /* only for the report */
  }
  return [
    `machine : ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `runtime : node ${process.version} (${process.platform}/${process.arch}), SQLite ${sqliteVersion}`,
    `load avg: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min; other work on the machine skews the figures)`,
    `tmpdir  : ${os.tmpdir()}`,
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-audit-'));
  console.log(`audit-append benchmark${QUICK ? ' (--quick: smoke run, figures are not meaningful)' : ''}`);
  for (const line of machine()) console.log(line);
  console.log(
    `config  : single N=${SINGLE_N} (+${SINGLE_WARMUP} warm-up), bulk ${BULK_TOTAL.toLocaleString('en-US')} events in batches of ${BULK_BATCH} (+${BULK_WARMUP_BATCHES} warm-up batches); WAL, synchronous=FULL`,
  );
  console.log('');
  try {
    process.stdout.write('running 1/4 single appends, store ... ');
    const sStore = await singleStore(dir);
    process.stdout.write('done\nrunning 2/4 single inserts, raw   ... ');
    const sRaw = singleRaw(dir);
    process.stdout.write('done\nrunning 3/4 bulk appends, store   ... ');
    const bStore = await bulkStore(dir);
    process.stdout.write('done\nrunning 4/4 bulk inserts, raw     ... ');
    const bRaw = bulkRaw(dir);
    process.stdout.write('done\n\n');

    console.log('single append (1 event per transaction, durable)     p50 ms    p99 ms    max ms   mean ms');
    console.log(
      `  SqliteAuditStore.append                        ${ms(sStore.p50)} ${ms(sStore.p99)} ${ms(sStore.max)} ${ms(sStore.mean)}`,
    );
    console.log(`  raw better-sqlite3 INSERT (autocommit)         ${ms(sRaw.p50)} ${ms(sRaw.p99)} ${ms(sRaw.max)} ${ms(sRaw.mean)}`);
    console.log('');
    console.log(`bulk append (${BULK_BATCH} events per transaction)                     events     seconds    events/s`);
    console.log(
      `  SqliteAuditStore.append                        ${int(bStore.events)} ${bStore.seconds.toFixed(3).padStart(11)} ${int(bStore.eps)}`,
    );
    console.log(
      `  raw better-sqlite3 prepared INSERT             ${int(bRaw.events)} ${bRaw.seconds.toFixed(3).padStart(11)} ${int(bRaw.eps)}`,
    );
    console.log('');

    const singleRatio = sStore.p99 / sRaw.p99;
    const bulkPct = (bStore.eps / bRaw.eps) * 100;
    const singleOk = sStore.p99 <= BUDGET_SINGLE_P99_MS;
    const bulkRatioOk = bStore.eps >= BUDGET_BULK_RATIO * bRaw.eps;
    const bulkAbsOk = bStore.eps >= BUDGET_BULK_MIN_EPS;
    console.log('ratios');
    console.log(`  single p99 ours/raw : ${singleRatio.toFixed(2)}x (p50 ${(sStore.p50 / sRaw.p50).toFixed(2)}x)`);
    console.log(`  bulk ours/raw       : ${bulkPct.toFixed(1)}% of raw throughput`);
    console.log('');
    console.log('budgets');
    console.log(`  [${verdict(singleOk)}] single-append p99 ${sStore.p99.toFixed(3)} ms <= ${BUDGET_SINGLE_P99_MS} ms`);
    console.log(`  [${verdict(bulkRatioOk)}] bulk ${bulkPct.toFixed(1)}% of raw >= ${BUDGET_BULK_RATIO * 100}%`);
    console.log(
      `  [${verdict(bulkAbsOk)}] bulk ${Math.round(bStore.eps).toLocaleString('en-US')} events/s >= ${BUDGET_BULK_MIN_EPS.toLocaleString('en-US')} events/s`,
    );
    console.log('');
    const all = singleOk && bulkRatioOk && bulkAbsOk;
    console.log(`OVERALL: ${all ? 'PASS' : 'FAIL'}${QUICK ? ' (quick run)' : ''}  (report only: exit code is 0 either way)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchmark(main);
