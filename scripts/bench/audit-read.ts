/**
 * Benchmark: reading the audit log the way a user does, against reading its rows raw, in the same run.
 *
 *   node --import tsx scripts/bench/audit-read.ts            full run (a 72 MB session; 1,000 sessions and 1M events)
 *   node --import tsx scripts/bench/audit-read.ts --quick    smoke run (a 7 MB session; 100 sessions and 100k events)
 *
 * 1. `cockpit audit show <session> --format json|text` of one session with 72 MB of output: wall time and peak RSS
 *    of the cockpit process, against a node process that reads the same rows with better-sqlite3 and parses each
 *    event's JSON (the least any reader must do). Budget: time under 2x, RSS under 150 MB.
 * 2. `cockpit audit verify` of 1,000 sessions and 1M events, every session anchored on refs/cockpit/audit: wall time
 *    against the raw read of all rows. Reported, no budget (verify hashes every event; the raw read does not).
 *
 * Each of (1) is run 3 times, interleaved, and the median taken: one run on a busy machine says little.
 * Everything is built in a fresh temp directory, removed at the end (KEEP=1 keeps it and prints its path, to
 * profile by hand). A report, not a test: budget misses exit 0.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { newSessionRecord } from '../../src/engine/session.js';
import type { NewEvent } from '../../src/core/events.js';
import { measureChild, runBenchmark, type MeasuredChild } from './run.js';

const QUICK = process.argv.includes('--quick');
const SHOW_MB = QUICK ? 7 : 72;
const SESSIONS = QUICK ? 100 : 1000;
const EVENTS_PER_SESSION = 1000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'cockpit.js');

/** Prints the process's peak RSS (KiB) on stderr as it exits: loaded with --import into each measured process. */

function record(id: string, time: number) {
  const text = 'id: bench\ntitle: Bench\nsteps:\n  - {id: out, title: Output, kind: run, run: cat big.log}\n';
  return newSessionRecord({
    id,
    time,
    identity: { operator: 'bench', host: 'bench' },
    version: 'bench',
    checklist: { id: 'bench', title: 'Bench', sha256: 'x', text, sources: { bench: text } },
    origin: { file: 'bench.yaml', byId: false },
    params: {},
    environment: null,
    mode: 'non-interactive',
    plan: [],
    scopes: { '': { checklist: 'bench', params: {} } },
  });
}

/** Log lines as a deploy prints them. */
function chunk(i: number, bytes: number): string {
  const line = `2026-12-06T10:00:${String(i % 60).padStart(2, '0')}Z INFO deploy: uploaded asset ${i} of the bundle (ok, 200, 12 ms)\n`;
  return line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
}

type Measured = MeasuredChild;

/** `cockpit audit verify` exits 1 when it finds a problem: still a measurement of the work. */
const measure = (args: string[], cwd: string): Measured => measureChild(args, cwd, [0, 1]);

/** The baseline reader: every row of the session(s), in order, its JSON parsed; nothing written. */
function rawReader(dir: string, sessionId: string | null): string {
  const file = path.join(dir, 'raw-read.mjs');
  writeFileSync(
    file,
    `import Database from ${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3', 'lib', 'index.js'))};
const db = new Database(${JSON.stringify(path.join(dir, '.cockpit', 'audit.db'))}, { readonly: true });
const q = ${sessionId ? `db.prepare('SELECT * FROM events WHERE session_id = ? ORDER BY seq').iterate(${JSON.stringify(sessionId)})` : `db.prepare('SELECT * FROM events ORDER BY session_id, seq').iterate()`};
let n = 0, bytes = 0;
for (const r of q) { const d = JSON.parse(r.data); n++; bytes += r.data.length; if (!d) throw new Error('empty'); }
process.stdout.write(n + ' rows, ' + bytes + ' bytes of data\\n');
`,
  );
  return file;
}

const fmt = (m: Measured) => `${(m.ms / 1000).toFixed(2)} s, peak RSS ${m.rssMb.toFixed(0)} MB`;

runBenchmark(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-read-'));
  try {
    execFileSync('git', ['init', '-q', '-b', 'main', dir]);
    const store = new SqliteAuditStore(path.join(dir, '.cockpit', 'audit.db'));

    // 1. One session with SHOW_MB of output, in 16 KB chunks.
    const big = 'bench-big-0001';
    const { header, first } = record(big, Date.UTC(2026, 11, 6, 10));
    await store.createSession(header, first);
    const chunkBytes = 16 * 1024;
    const chunks = Math.ceil((SHOW_MB * 1024 * 1024) / chunkBytes);
    await store.append(big, [{ type: 'step.started', stepId: 'out', actor: 'bench', data: { attempt: 1 } }]);
    for (let i = 0; i < chunks; i += 500) {
      const batch: NewEvent[] = [];
      for (let j = i; j < Math.min(chunks, i + 500); j++)
        batch.push({ type: 'step.output', stepId: 'out', actor: 'cockpit', data: { stream: 'stdout', text: chunk(j, chunkBytes) } });
      await store.append(big, batch);
    }
    await store.append(big, [
      { type: 'step.passed', stepId: 'out', actor: 'bench', data: { exitCode: 0, via: 'command' } },
      { type: 'session.finished', actor: 'bench', data: { outcome: 'succeeded' } },
    ]);
    console.log(`audit show: one session, ${chunks} output events, ${SHOW_MB} MB of output`);
    const runs: Record<'raw' | 'json' | 'text', Measured[]> = { raw: [], json: [], text: [] };
    for (let i = 0; i < 3; i++) {
      runs.raw.push(measure([rawReader(dir, big)], dir));
      runs.json.push(measure([BIN, '--repo', dir, 'audit', 'show', big, '--format', 'json'], dir));
      runs.text.push(measure([BIN, '--repo', dir, 'audit', 'show', big], dir));
    }
    const median = (ms: Measured[]) => [...ms].sort((a, b) => a.ms - b.ms)[1];
    const [raw, json, text] = [median(runs.raw), median(runs.json), median(runs.text)];
    console.log(`  raw read (baseline):      ${fmt(raw)}`);
    console.log(
      `  audit show --format json: ${fmt(json)}  → ${(json.ms / raw.ms).toFixed(2)}x the raw read, ${(json.stdout.length / 1e6).toFixed(0)} MB written`,
    );
    console.log(`  audit show (text):        ${fmt(text)}  → ${(text.ms / raw.ms).toFixed(2)}x the raw read`);
    for (const [name, m] of [
      ['json', json],
      ['text', text],
    ] as const)
      console.log(
        `  ${name}: time ${m.ms / raw.ms < 2 ? 'PASS' : 'FAIL'} (budget 2x), RSS ${m.rssMb < 150 ? 'PASS' : 'FAIL'} (budget 150 MB)`,
      );

    // 2. SESSIONS sessions of EVENTS_PER_SESSION events, each anchored.
    const heads: Array<[string, number, string]> = [];
    for (let s = 0; s < SESSIONS; s++) {
      const id = `bench-s-${String(s).padStart(5, '0')}`;
      const r = record(id, Date.UTC(2026, 11, 6, 11) + s);
      await store.createSession(r.header, r.first);
      const batch: NewEvent[] = [];
      for (let i = 1; i < EVENTS_PER_SESSION - 1; i++)
        batch.push({ type: 'step.output', stepId: 'out', actor: 'cockpit', data: { stream: 'stdout', text: `line ${i} of ${id}\n` } });
      batch.push({ type: 'session.finished', actor: 'bench', data: { outcome: 'succeeded' } });
      const stored = await store.append(id, batch);
      const last = stored.at(-1)!;
      heads.push([id, last.seq, last.hash]);
    }
    await store.close();
    // The anchors as the cockpit writes them (one blob per session on refs/cockpit/audit), built in one go.
    const blobs = path.join(dir, 'anchors');
    execFileSync('mkdir', ['-p', blobs]);
    for (const [id, seq, hash] of heads) writeFileSync(path.join(blobs, id), `${seq} ${hash}\n`);
    const shas = execFileSync('git', ['hash-object', '-w', '--stdin-paths'], {
      cwd: dir,
      input: heads.map(([id]) => path.join(blobs, id)).join('\n') + '\n',
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    const tree = execFileSync('git', ['mktree'], {
      cwd: dir,
      input: heads.map(([id], i) => `100644 blob ${shas[i]}\t${id}`).join('\n') + '\n',
      encoding: 'utf8',
    }).trim();
    const commit = execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit-tree', tree, '-m', 'anchors'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    execFileSync('git', ['update-ref', 'refs/cockpit/audit', commit], { cwd: dir });
    const total = SESSIONS * EVENTS_PER_SESSION + chunks + 4;
    console.log(`\naudit verify: ${SESSIONS + 1} sessions, ${total.toLocaleString('en-US')} events, ${SESSIONS} anchored`);
    const rawAll = measure([rawReader(dir, null)], dir);
    const verify = measure([BIN, '--repo', dir, 'audit', 'verify'], dir);
    console.log(`  raw read of every row (baseline): ${fmt(rawAll)}`);
    console.log(`  audit verify:                     ${fmt(verify)}  → ${(verify.ms / rawAll.ms).toFixed(2)}x the raw read`);
  } finally {
    if (process.env.KEEP) console.log(`kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});
