/**
 * Replay of a 100,000-event session (docs/architecture.md §8: open to first frame ≤ 1 s; a seek to its middle ≤ 50 ms).
 *
 *   node --import tsx scripts/bench/replay.tsx [--events N] [--dev]
 *
 * A session of 500 steps (includes among them) whose events are almost all step.output lines, most of them in one
 * step, with a few operator notes (timeline markers), is written to a real SQLite audit log (SqliteAuditStore:
 * createSession + append in batches) in a temp folder, and the store is closed. Then:
 *
 *   (a) open to first frame, as `cockpit replay <id>` does it: open the store, readEvents(id), render the real <App>
 *       on the route {name:'replay'} into a fake 100x30 TTY (Ink, as in keypress.tsx) until the first frame that
 *       shows "REPLAY" is written. Budget ≤ 1 s.
 *   (b) seeks on the model (src/core/replay.ts), the way the screen uses it:
 *       - cold seeks to the middle and to the end: a fresh Replay each, stateAt(length/2) or stateAt(length) before
 *         anything was precomputed (budget ≤ 50 ms for both);
 *       - the background precompute (the screen folds slices of 2,000 events on setImmediate; here in one go);
 *       - after it, stateAt(length/2) and stateAt(random positions), and the heap the precomputed Replay holds.
 *   (c) seeks end to end through the real App: 'G' (to the end) and 'g' (to the start) to the frame that shows the
 *       new position; once right after the first frame (the precompute has only begun) and then, after the screen's
 *       own background precompute has finished, alternately 40 times.
 *
 * Baselines measured in the same run: reduceAll(events), one full fold of the session (the first frame is given as
 * a ratio to it), and the same rows read with raw better-sqlite3 (SELECT * … ORDER BY seq, then JSON.parse of each
 * row's data), the floor for readEvents. A report, not a test: exit 0 either way.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SessionHeader } from '../../src/audit/hash.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { bundleSha } from '../../src/core/checklist/bundle.js';
import type { AuditEvent, EventDataMap, EventType, NewEvent } from '../../src/core/events.js';
import { reduceAll } from '../../src/core/reducer.js';
import { Replay } from '../../src/core/replay.js';
import type { Route } from '../../src/tui/App.js';
import {
  loadUi,
  machineLines,
  makeEvents,
  ms,
  stats,
  stubServices,
  Terminal,
  verdict,
  type SessionSpec,
  type Write,
} from './ink-harness.js';
import { runBenchmark } from './run.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 && Number(process.argv[i + 1]) > 0 ? Number(process.argv[i + 1]) : dflt;
};
const TOTAL = arg('--events', 100_000);
const BATCH = 5000;
const NOTES = 9;
const SEEKS = 200;
const JUMPS = 40;
const BUDGET_OPEN_MS = 1000;
const BUDGET_SEEK_MS = 50;
const gc = (globalThis as { gc?: () => void }).gc;

/** The session's events: `TOTAL` in all, with NOTES operator notes spread through it. */
function sessionEvents(): AuditEvent[] {
  const shape = (lines: number): SessionSpec => ({
    steps: 500,
    lines,
    outputAt: [
      { index: 20, share: 0.03 },
      { index: 120, share: 0.03 },
      { index: 259, share: 0.04 },
      { index: 260, share: 0.9 },
    ],
    failAt: null,
  });
  const overhead = makeEvents(shape(0)).length + NOTES;
  const base = makeEvents(shape(Math.max(0, TOTAL - overhead)));
  const out: AuditEvent[] = [];
  const every = Math.floor(base.length / (NOTES + 1));
  for (const e of base) {
    out.push(e);
    if (out.length < base.length + NOTES && e.seq % every === 0 && e.stepId && out.filter((x) => x.type === 'note.added').length < NOTES) {
      const note: EventDataMap['note.added'] = { text: `checked the ${e.stepId} output so far: as expected (ticket OPS-${e.seq})` };
      out.push({ ...e, type: 'note.added', actor: 'bob', data: note } as AuditEvent);
    }
  }
  return out.map((e, i) => ({ ...e, seq: i + 1, time: out[0].time + i * 10 }));
}

/** The event as it is appended again (generic: its type and data stay a pair). */
function asNew<T extends EventType>(e: AuditEvent<T>): NewEvent<T> {
  return { type: e.type, stepId: e.stepId, data: e.data, actor: e.actor, time: e.time };
}

async function writeSession(file: string, events: AuditEvent[]): Promise<{ id: string; seconds: number }> {
  const store = new SqliteAuditStore(file);
  try {
    const first = events[0] as AuditEvent<'session.started'>;
    const text = 'id: bench\ntitle: Benchmark release\nsteps: []\n';
    const sources = { bench: text };
    const header: SessionHeader = {
      id: randomUUID(),
      checklistId: 'bench',
      checklistTitle: 'Benchmark release',
      checklistText: text,
      checklistSources: sources,
      checklistSha256: bundleSha(sources),
      params: first.data.params,
      environment: first.data.environment,
      operator: first.data.operator,
      host: first.data.host,
      startedAt: first.time,
    };
    const t0 = performance.now();
    await store.createSession(header, { type: 'session.started', time: first.time, data: first.data });
    const rest: NewEvent[] = events.slice(1).map((e) => asNew(e));
    for (let i = 0; i < rest.length; i += BATCH) await store.append(header.id, rest.slice(i, i + BATCH));
    return { id: header.id, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await store.close();
  }
}

/** The same rows through raw better-sqlite3: SELECT * in seq order, then JSON.parse of each row's data. */
function rawRead(file: string, id: string, expect: number): { select: number; parse: number } {
  const db = new Database(file, { readonly: true });
  try {
    const q0 = performance.now();
    const rows = db.prepare('SELECT * FROM events WHERE session_id = ? ORDER BY seq').all(id) as Array<{ data: string }>;
    const q1 = performance.now();
    let parsed = 0;
    for (const row of rows) parsed += JSON.parse(row.data) ? 1 : 0;
    const q2 = performance.now();
    if (parsed !== expect) throw new Error(`raw read: ${parsed} rows, expected ${expect}`);
    return { select: q1 - q0, parse: q2 - q1 };
  } finally {
    db.close();
  }
}

/** The screen's background precompute, observed: resolves when a Replay's precompute() first reports it is done. */
function watchPrecompute(): { done: Promise<number> } {
  const orig = Replay.prototype.precompute;
  let resolve!: (t: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  Replay.prototype.precompute = function (this: Replay, maxEvents: number) {
    const finished = orig.call(this, maxEvents);
    if (finished) {
      Replay.prototype.precompute = orig;
      resolve(performance.now());
    }
    return finished;
  };
  return { done };
}

async function main(): Promise<void> {
  const ui = await loadUi();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-replay-'));
  const file = path.join(dir, 'audit.db');
  try {
    console.log('replay benchmark: a 100k-event session from a real SQLite audit log: open to first frame, and seeks');
    for (const l of machineLines()) console.log(l);
    process.stdout.write('writing the session to the audit log ... ');
    const built = sessionEvents();
    const { id, seconds } = await writeSession(file, built);
    console.log(`${built.length.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s`);
    console.log(
      `config  : 500 steps, ${built.filter((e) => e.type === 'step.output').length.toLocaleString('en-US')} output lines (90% in one step), ${NOTES} notes; screen 100x30, Ink maxFps 30 as the cockpit`,
    );
    console.log('');
    gc?.();

    // Raw better-sqlite3 read of the same rows, the floor for readEvents: first, with the same heap as (a) will have
    // (once to warm the file cache after the writer closed, then measured).
    rawRead(file, id, built.length);
    gc?.();
    const raw = rawRead(file, id, built.length);
    gc?.();

    // (a) open to first frame -------------------------------------------------------------------------------------
    const term = new Terminal();
    const precompute = watchPrecompute();
    const t0 = performance.now();
    const store = new SqliteAuditStore(file);
    const t1 = performance.now();
    const events = await store.readEvents(id);
    const t2 = performance.now();
    if (events.length !== built.length) throw new Error(`read ${events.length} events, wrote ${built.length}`);
    const route: Route = { name: 'replay', sessionId: id, events };
    const firstFrame = term.waitFrame((w) => w.text.includes('REPLAY'));
    const instance = ui.render(
      ui.createElement(ui.App, { services: stubServices(), initial: route, theme: ui.colorTheme, onExit: () => undefined }),
      term.inkOptions(30),
    );
    const frame = await firstFrame;
    const tOpen = frame.t - t0;
    await store.close();

    // (c1) cold G/g right after the first frame: the background precompute has only begun ------------------------
    const n = events.length;
    const at = (pos: number) => (w: Write) => w.text.includes(`(event ${pos}/${n})`);
    const coldEnd = await term.press('G', { pred: at(n), quietMs: 40 });
    const coldStart = await term.press('g', { pred: at(1), quietMs: 40 });
    const precomputedAt = await precompute.done;
    const tPrecompute = precomputedAt - frame.t;

    // (c2) G/g after the screen's precompute ----------------------------------------------------------------------
    const end: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < JUMPS; i++) {
      end.push((await term.press('G', { pred: at(n), quietMs: 40 })).first);
      start.push((await term.press('g', { pred: at(1), quietMs: 40 })).first);
    }
    instance.unmount();
    instance.cleanup();
    gc?.();

    // (b) the model ----------------------------------------------------------------------------------------------
    const mid = Math.floor(n / 2);
    const fold0 = performance.now();
    const full = reduceAll(events);
    const foldMs = performance.now() - fold0;
    if (!full) throw new Error('no state');
    const c0 = performance.now();
    const cold = new Replay(events);
    const ctor = performance.now() - c0;
    const s0 = performance.now();
    const coldState = cold.stateAt(mid);
    const coldMid = performance.now() - s0;
    const coldEndReplay = new Replay(events);
    const e0 = performance.now();
    const coldEndState = coldEndReplay.stateAt(n);
    const coldEndMs = performance.now() - e0;
    if (coldEndState.seq !== full.seq || coldEndState.status !== full.status)
      throw new Error('the cold seek to the end is not the full fold');
    gc?.();
    // The heap and the typed arrays' memory outside it (the times and fold costs per event).
    const held = () => {
      const m = process.memoryUsage();
      return { heap: m.heapUsed, buffers: m.arrayBuffers };
    };
    const mem0 = held();
    const r = new Replay(events);
    gc?.();
    const ctorMem = held();
    const p0 = performance.now();
    while (!r.precompute(5000));
    const precomputeMs = performance.now() - p0;
    gc?.();
    const mem1 = held();
    const MB = 1024 * 1024;
    const indexMb = (ctorMem.heap - mem0.heap + ctorMem.buffers - mem0.buffers) / MB;
    const checkpointMb = (mem1.heap - ctorMem.heap + mem1.buffers - ctorMem.buffers) / MB;
    const w0 = performance.now();
    const warmState = r.stateAt(mid);
    const warmMid = performance.now() - w0;
    // The middle is a checkpoint (a multiple of 1,000); the farthest a position can be from one folds 999 events.
    const far = mid + r.checkpointEvery - 1;
    r.stateAt(1);
    const f0 = performance.now();
    r.stateAt(far);
    const warmFar = performance.now() - f0;
    if (warmState.seq !== coldState.seq || warmState.seq !== events[mid - 1].seq) throw new Error('the seeks disagree');
    const seeks: number[] = [];
    let x = 12345;
    for (let i = 0; i < SEEKS; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const pos = 1 + (x % n);
      const q0 = performance.now();
      r.stateAt(pos);
      seeks.push(performance.now() - q0);
    }
    const sk = stats(seeks);

    // report ------------------------------------------------------------------------------------------------------
    const openTotal = tOpen;
    console.log('(a) open to first frame ("REPLAY" on screen)');
    console.log(`  open the SQLite store               ${ms(t1 - t0, 1)}`);
    console.log(`  readEvents (${n.toLocaleString('en-US')} rows)          ${ms(t2 - t1, 1)}`);
    console.log(
      `  new Replay + render to first frame  ${ms(frame.t - t2, 1)}   (of which Ink building the frame text ${ms(term.inkRender, 1).trim()})`,
    );
    console.log(`  total                               ${ms(openTotal, 1)}`);
    console.log('');
    console.log('(b) seeks on the model (src/core/replay.ts)');
    console.log(`  new Replay(events)                              ${ms(ctor, 1)}`);
    console.log(`  cold seek to the middle (nothing precomputed)   ${ms(coldMid, 1)}   (folds ${mid.toLocaleString('en-US')} events)`);
    console.log(`  cold seek to the end (nothing precomputed)      ${ms(coldEndMs, 1)}   (folds ${n.toLocaleString('en-US')} events)`);
    console.log(`  precompute, all of it (checkpoints every ${r.checkpointEvery})  ${ms(precomputeMs, 1)}`);
    console.log(
      `  memory: new Replay ${indexMb.toFixed(1)} MB (times, fold costs, markers); its ${Math.ceil(n / r.checkpointEvery)} checkpoints ${checkpointMb.toFixed(1)} MB (${((checkpointMb * 1024) / Math.ceil(n / r.checkpointEvery)).toFixed(1)} KB each), after GC${gc ? '' : ': run with --expose-gc'}`,
    );
    console.log(`  seek to the middle after precompute             ${ms(warmMid, 3)}   (a checkpoint: folds nothing)`);
    console.log(
      `  seek to the middle + ${r.checkpointEvery - 1} after precompute       ${ms(warmFar, 3)}   (the most a seek folds: ${r.checkpointEvery - 1} events)`,
    );
    console.log(
      `  ${SEEKS} seeks to random positions after precompute p50 ${ms(sk.p50, 3).trim()} · p95 ${ms(sk.p95, 3).trim()} · max ${ms(sk.max, 3).trim()}`,
    );
    console.log('');
    console.log('(c) seeks end to end (key → the frame that shows the new position)');
    console.log(
      `  'G' right after the first frame (cold)          ${ms(coldEnd.first, 1)}   (its first frame, showing the fold's progress: ${ms(coldEnd.anyFrame, 1).trim()})`,
    );
    console.log(`  'g' after it                                    ${ms(coldStart.first, 1)}`);
    console.log(`  the screen's background precompute finished    ${ms(tPrecompute, 1)} after the first frame`);
    const se = stats(end);
    const ss = stats(start);
    console.log(
      `  'G' after precompute (${JUMPS}x)                      p50 ${ms(se.p50, 1).trim()} · p95 ${ms(se.p95, 1).trim()} · max ${ms(se.max, 1).trim()}`,
    );
    console.log(
      `  'g' after precompute (${JUMPS}x)                      p50 ${ms(ss.p50, 1).trim()} · p95 ${ms(ss.p95, 1).trim()} · max ${ms(ss.max, 1).trim()}`,
    );
    console.log('');
    console.log('baselines (same run)');
    console.log(
      `  raw better-sqlite3 SELECT of the rows           ${ms(raw.select, 1)}   + JSON.parse of data ${ms(raw.parse, 1).trim()}  (measured just before (a))`,
    );
    console.log(`  readEvents / raw read+parse                     ${((t2 - t1) / (raw.select + raw.parse)).toFixed(2)}x`);
    console.log(`  reduceAll(events), one full fold                ${ms(foldMs, 1)}`);
    console.log(`  first frame / full fold                         ${(openTotal / foldMs).toFixed(2)}x`);
    console.log(`  cold mid seek / full fold                       ${(coldMid / foldMs).toFixed(2)}x`);
    console.log(`  cold end seek / full fold                       ${(coldEndMs / foldMs).toFixed(2)}x`);
    console.log('');
    console.log('budgets');
    console.log(`  [${verdict(openTotal <= BUDGET_OPEN_MS)}] open to first frame ${openTotal.toFixed(0)} ms ≤ ${BUDGET_OPEN_MS} ms`);
    console.log(
      `  [${verdict(warmMid <= BUDGET_SEEK_MS)}] seek to the middle (model, after precompute) ${warmMid.toFixed(3)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(warmFar <= BUDGET_SEEK_MS)}] seek to the middle + ${r.checkpointEvery - 1} (model, after precompute, worst case) ${warmFar.toFixed(3)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(coldMid <= BUDGET_SEEK_MS)}] seek to the middle (model, cold: before any precompute) ${coldMid.toFixed(1)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(coldEndMs <= BUDGET_SEEK_MS)}] seek to the end (model, cold: before any precompute) ${coldEndMs.toFixed(1)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(se.p95 <= BUDGET_SEEK_MS)}] 'G' key → frame after precompute, p95 ${se.p95.toFixed(1)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(coldEnd.first <= BUDGET_SEEK_MS)}] 'G' key → the end shown, right after opening (cold) ${coldEnd.first.toFixed(1)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log(
      `  [${verdict(coldEnd.anyFrame <= BUDGET_SEEK_MS)}] 'G' key → next frame right after opening (cold; it shows the fold's progress) ${coldEnd.anyFrame.toFixed(1)} ms ≤ ${BUDGET_SEEK_MS} ms`,
    );
    console.log('');
    console.log('report only: the exit code is 0 whether or not the budgets are met');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchmark(main);
