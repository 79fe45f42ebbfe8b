/**
 * Benchmark: recording 100 MB of a command's output with the full redaction policy (issue 13) against the same
 * recorded with redaction off.
 *
 *   node --import tsx scripts/bench/redaction.ts            full run (100 MB)
 *   node --import tsx scripts/bench/redaction.ts --quick    smoke run (10 MB)
 *
 * The input is mixed log lines (build and test output, URLs, words like "token" that trip the patterns' cheap
 * trigger, colour codes) with a secret of the corpus (test/fixtures/secret-corpus.json) on one line in 200,
 * pushed in pipe-sized pieces (64 KB) as a command's output reaches the engine. Two measurements:
 *   1. the pipeline alone: OutputBuffer (secret-safe cuts) → the store's Sanitizer (colours, redaction, controls),
 *      against a plain line splitter → the same sanitising without redaction;
 *   2. recorded: the same, appended as step.output events to a SqliteAuditStore in a temp directory, against the
 *      same store whose sanitiser does no redaction (swapped in by this benchmark only).
 * It also checks that no secret of the input survives the full policy. It prints PASS/FAIL against the budget
 * (throughput ratio full/off ≥ 0.5, for the recorded output: 2.); 1. is the worst case, the redaction's share of
 * the work with no I/O to hide it, shown for information. It is a report, not a test: a budget failure still
 * exits 0.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Sanitizer } from '../../src/audit/chain.js';
import type { SessionHeader } from '../../src/audit/hash.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { NewEvent } from '../../src/core/events.js';
import { mapStrings, sanitizeText } from '../../src/core/sanitize.js';
import { OutputBuffer } from '../../src/engine/output-buffer.js';
import { runBenchmark } from './run.js';

const QUICK = process.argv.includes('--quick');
const TOTAL = (QUICK ? 10 : 100) * 1024 * 1024;
const PIPE = 64 * 1024;
const BUDGET_RATIO = 0.5;

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus: Array<{ shape: string; text: string; secret: string }> = JSON.parse(
  readFileSync(path.join(here, '..', '..', 'test', 'fixtures', 'secret-corpus.json'), 'utf8'),
);

// ---------------------------------------------------------------------------------------------- input

function mixedLog(bytes: number): { text: string; secrets: Set<string> } {
  let seed = 42;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const secrets = new Set<string>();
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const k = rnd(200);
    const ts = `2026-12-06T00:${String(i % 60).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')}.${rnd(1000)}Z`;
    let line: string;
    if (k === 0) {
      const e = corpus[rnd(corpus.length)];
      secrets.add(e.secret);
      line = `${ts} DEBUG ${e.text}`;
    } else if (k < 40) line = `${ts} http fetch GET 200 https://registry.npmjs.org/pkg-${rnd(5000)}/-/pkg-${rnd(90)}.tgz ${rnd(300)}ms`;
    else if (k < 60) line = `${ts} INFO token bucket refilled: ${rnd(100)} tokens, secret rotation in ${rnd(90)} days`;
    else if (k < 70)
      line = `\x1b[32m  ✓\x1b[0m test/unit/module-${rnd(300)}.test.ts > handles case ${rnd(1000)} \x1b[2m${rnd(40)}ms\x1b[0m`;
    else
      line = `${ts} INFO  [worker-${rnd(8)}] compiled src/feature-${rnd(100)}/file-${rnd(1000)}.ts in ${rnd(500)}ms (${rnd(9000)} lines)`;
    parts.push(line);
    size += line.length + 1;
  }
  return { text: parts.join('\n') + '\n', secrets };
}

// ---------------------------------------------------------------------------------------------- pipelines

type Chunk = { stream: 'stdout' | 'stderr'; text: string };
type Sink = (chunks: Chunk[]) => void;

/** The engine's buffer (secret-safe cuts) … */
function fullBuffer(sink: Sink) {
  return new OutputBuffer(sink);
}

/** … and, for "redaction off", a buffer that cuts at the last newline, as OutputBuffer did before issue 13. */
function plainBuffer(sink: Sink) {
  let pending = '';
  return {
    push(_s: 'stdout', text: string) {
      pending += text;
      const cut = pending.lastIndexOf('\n') + 1;
      if (cut > 0) {
        sink([{ stream: 'stdout', text: pending.slice(0, cut) }]);
        pending = pending.slice(cut);
      }
    },
    flush() {
      if (pending) sink([{ stream: 'stdout', text: pending }]);
      pending = '';
    },
  };
}

const noRedaction = (t: string) => t;
/** The store's sanitiser with redaction off: colours still stripped and controls neutralised. */
const offSanitizer = {
  clean: <T>(v: T): T => mapStrings(v, (t) => sanitizeText(t, noRedaction)),
  header: (h: SessionHeader) => h,
  addSecrets: () => {},
};

function feed(text: string, buf: { push(s: 'stdout', t: string): void; flush(final?: boolean): void }): void {
  for (let i = 0; i < text.length; i += PIPE) buf.push('stdout', text.slice(i, i + PIPE));
  buf.flush(true);
}

/** The pipeline over `text`; `keep` keeps what comes out (to look for secrets in it, not while timing). */
function pipeline(text: string, mode: 'full' | 'off', keep = false): { ms: number; out: string[] } {
  const sanitizer = mode === 'full' ? new Sanitizer() : offSanitizer;
  const out: string[] = [];
  let bytes = 0;
  const sink: Sink = (chunks) => {
    for (const c of chunks) {
      const t = sanitizer.clean({ stream: c.stream, text: c.text }).text;
      bytes += t.length;
      if (keep) out.push(t);
    }
  };
  const t0 = performance.now();
  feed(text, mode === 'full' ? fullBuffer(sink) : plainBuffer(sink));
  const ms = performance.now() - t0;
  if (bytes < text.length / 2) throw new Error(`the ${mode} pipeline lost output`);
  return { ms, out };
}

async function recorded(text: string, mode: 'full' | 'off', dir: string, run: number): Promise<{ ms: number; file: string }> {
  const file = path.join(dir, `${mode}-${run}.db`);
  const store = new SqliteAuditStore(file);
  if (mode === 'off') (store as unknown as { sanitizer: unknown }).sanitizer = offSanitizer;
  const now = Date.now();
  const header: SessionHeader = {
    id: randomUUID(),
    checklistId: 'bench',
    checklistTitle: 'Redaction bench',
    checklistText: 'id: bench\n',
    checklistSources: { bench: 'id: bench\n' },
    checklistSha256: '0'.repeat(64),
    params: {},
    environment: null,
    operator: 'bench',
    host: 'bench-host',
    startedAt: now,
  };
  const first = {
    type: 'session.started',
    time: now,
    data: {
      checklist: { id: 'bench', title: 'Redaction bench', sha256: '0'.repeat(64) },
      origin: { file: 'checklists/bench.yaml', byId: true },
      params: {},
      environment: null,
      operator: 'bench',
      host: 'bench-host',
      pid: process.pid,
      mode: 'non-interactive',
      version: '0.1.0',
      plan: [],
      scopes: {},
    },
  } as NewEvent<'session.started'>;
  await store.createSession(header, first);
  const batches: NewEvent[][] = [];
  const sink: Sink = (chunks) =>
    batches.push(chunks.map((c) => ({ type: 'step.output', stepId: 'print', actor: 'cockpit', data: { stream: c.stream, text: c.text } })));
  const t0 = performance.now();
  feed(text, mode === 'full' ? fullBuffer(sink) : plainBuffer(sink));
  for (const b of batches) await store.append(header.id, b);
  const ms = performance.now() - t0;
  await store.close();
  return { ms, file };
}

// ---------------------------------------------------------------------------------------------- main

const mbps = (bytes: number, ms: number) => bytes / 1048576 / (ms / 1000);

/** Run both in turn; keep the faster. */
function best<T extends { ms: number }>(a: () => T, b: () => T): T {
  const x = a();
  const y = b();
  return x.ms <= y.ms ? x : y;
}

async function main(): Promise<void> {
  const { text, secrets } = mixedLog(TOTAL);
  const mb = text.length / 1048576;
  console.log(`redaction benchmark: ${mb.toFixed(0)} MB of mixed log lines, ${secrets.size} distinct secrets on 1 line in 200`);

  // warm-up (JIT), then the measured runs, alternating
  pipeline(text.slice(0, 4 * PIPE * 16), 'full');
  pipeline(text.slice(0, 4 * PIPE * 16), 'off');
  // each measured twice, alternating, the faster run kept (the first pays for the JIT, a GC, the disk cache)
  const off = best(
    () => pipeline(text, 'off'),
    () => pipeline(text, 'off'),
  );
  const full = best(
    () => pipeline(text, 'full'),
    () => pipeline(text, 'full'),
  );
  const kept = pipeline(text, 'full', true).out;
  const leaks = [...secrets].filter((s) => kept.some((o) => o.includes(s)));
  const ratio1 = mbps(text.length, full.ms) / mbps(text.length, off.ms);
  console.log(`\n1. buffer + sanitiser`);
  console.log(`   redaction off : ${off.ms.toFixed(0)} ms  ${mbps(text.length, off.ms).toFixed(1)} MB/s`);
  console.log(`   full policy   : ${full.ms.toFixed(0)} ms  ${mbps(text.length, full.ms).toFixed(1)} MB/s`);
  console.log(`   ratio full/off: ${ratio1.toFixed(2)}  (information: the redaction's share with no I/O)`);
  console.log(`   secrets left  : ${leaks.length ? `FAIL ${leaks.length}` : 'none'}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-redaction-'));
  try {
    const r1off = await recorded(text, 'off', dir, 1);
    const r1full = await recorded(text, 'full', dir, 1);
    const r2off = await recorded(text, 'off', dir, 2);
    const r2full = await recorded(text, 'full', dir, 2);
    const roff = r1off.ms <= r2off.ms ? r1off : r2off;
    const rfull = r1full.ms <= r2full.ms ? r1full : r2full;
    const bytes = readFileSync(rfull.file).toString('latin1') + readFileSync(`${rfull.file}-wal`, { flag: 'a+' }).toString('latin1');
    const stored = [...secrets].filter((s) => bytes.includes(s));
    const ratio2 = mbps(text.length, rfull.ms) / mbps(text.length, roff.ms);
    console.log(`\n2. recorded in a SqliteAuditStore`);
    console.log(`   redaction off : ${roff.ms.toFixed(0)} ms  ${mbps(text.length, roff.ms).toFixed(1)} MB/s`);
    console.log(`   full policy   : ${rfull.ms.toFixed(0)} ms  ${mbps(text.length, rfull.ms).toFixed(1)} MB/s`);
    console.log(`   ratio full/off: ${ratio2.toFixed(2)}  ${ratio2 >= BUDGET_RATIO ? 'PASS' : 'FAIL'} (budget ≥ ${BUDGET_RATIO})`);
    console.log(`   secrets in the database file: ${stored.length ? `FAIL ${stored.length}` : 'none'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchmark(main);
