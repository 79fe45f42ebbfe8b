/**
 * Shared by the screen benchmarks (keypress.tsx, replay.tsx): the real <App> rendered by Ink into fake terminal
 * streams that record when each frame is written, a way to press keys and wait for the frame they cause, synthetic
 * sessions, and the statistics/printing helpers. Not a test helper: nothing here asserts.
 *
 * React and Ink are imported dynamically by `loadUi()`, after the environment is set the way `bin/cockpit.js` sets it
 * (NODE_ENV=production before React loads; `--dev` keeps React's development build), CI variables are removed (Ink
 * writes no frames at all when it believes it runs in CI) and colours are forced on (a real terminal has them).
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { AuditEvent, EventDataMap, EventType, PlanNode } from '../../src/core/events.js';
import type { AppServices } from '../../src/tui/types.js';

// ---------------------------------------------------------------------------------------------- environment

export const DEV = process.argv.includes('--dev');

export async function loadUi() {
  process.env.NODE_ENV = DEV ? 'development' : 'production';
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[k];
  process.env.FORCE_COLOR ??= '1';
  const [ink, react, app, theme] = await Promise.all([
    import('ink'),
    import('react'),
    import('../../src/tui/App.js'),
    import('../../src/tui/theme.js'),
  ]);
  return { render: ink.render, createElement: react.createElement, App: app.App, colorTheme: theme.colorTheme };
}

export function machineLines(): string[] {
  const cpus = os.cpus();
  return [
    `machine : ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB · node ${process.version} · load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `react   : ${DEV ? 'development build (--dev)' : 'production build (NODE_ENV=production, as bin/cockpit.js runs it)'}`,
  ];
}

// ---------------------------------------------------------------------------------------------- fake terminal

export interface Write {
  t: number;
  text: string;
}

/** A TTY-like stdout, 100x30, that records every write with its time. */
export class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  columns = 100;
  rows = 30;
  writes: Write[] = [];
  /** Called after each write is recorded. */
  onWrite: ((w: Write) => void) | null = null;

  write = (chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean => {
    const w = { t: performance.now(), text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') };
    this.writes.push(w);
    if (this.writes.length > 2000) this.writes.splice(0, 1000);
    this.onWrite?.(w);
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
}

/** Mimics ink-testing-library 4's stdin: a TTY whose write() emits 'readable' and hands the data to read(). */
export class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** A frame write, as opposed to the synchronised-update markers and cursor codes Ink writes around it. */
export const isFrame = (w: Write) => w.text.length > 64;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface KeyTiming {
  /** Key written to stdin → the first frame written after it that `pred` accepts (ms). */
  first: number;
  /** Key → the very first frame written after it, whatever it shows (ms). */
  anyFrame: number;
  /** Key → the last frame written before the output went quiet (ms); equals `first` unless a key makes several frames. */
  last: number;
  frames: number;
  /** Ink's own time building the frame's text (onRender renderTime) summed over the frames of this key. */
  inkRender: number;
}

export class Terminal {
  readonly stdout = new FakeStdout();
  readonly stderr = new FakeStdout();
  readonly stdin = new FakeStdin();
  /** Sum of Ink's renderTime since the last reset. */
  inkRender = 0;
  onRender = (m: { renderTime: number }) => {
    this.inkRender += m.renderTime;
  };

  /** Resolve with the first frame write (at or after `since`) that satisfies `pred`. */
  waitFrame(pred: (w: Write) => boolean = () => true, timeoutMs = 30_000): Promise<Write> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stdout.onWrite = null;
        reject(new Error(`no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.stdout.onWrite = (w) => {
        if (!isFrame(w) || !pred(w)) return;
        clearTimeout(timer);
        this.stdout.onWrite = null;
        resolve(w);
      };
    });
  }

  /** Wait until no frame has been written for `quietMs`. Returns the frames written meanwhile. */
  async settle(quietMs: number): Promise<Write[]> {
    const start = this.stdout.writes.length;
    let seen = start;
    for (;;) {
      await sleep(quietMs);
      if (this.stdout.writes.length === seen) break;
      seen = this.stdout.writes.length;
    }
    return this.stdout.writes.slice(start).filter(isFrame);
  }

  /**
   * Press `key` and time the frame it causes. `pred` picks the frame (default: any frame); after it, waits `quietMs`
   * of silence to count the frames the key made in all.
   */
  async press(key: string, opts: { pred?: (w: Write) => boolean; quietMs?: number } = {}): Promise<KeyTiming> {
    const mark = this.stdout.writes.length;
    this.inkRender = 0;
    const frame = this.waitFrame(opts.pred);
    const t0 = performance.now();
    this.stdin.write(key);
    const w = await frame;
    const rest = await this.settle(opts.quietMs ?? 8);
    const frames = this.stdout.writes.slice(mark).filter(isFrame);
    const lastW = rest.length ? rest[rest.length - 1] : w;
    const anyFrame = (frames[0]?.t ?? w.t) - t0;
    return { first: w.t - t0, anyFrame, last: Math.max(w.t, lastW.t) - t0, frames: frames.length, inkRender: this.inkRender };
  }

  /** Ink's render options for this terminal: the cockpit's own (no CI, no debug, no console patching), at `maxFps`. */
  inkOptions(maxFps: number) {
    return {
      stdout: this.stdout as unknown as NodeJS.WriteStream,
      stderr: this.stderr as unknown as NodeJS.WriteStream,
      stdin: this.stdin as unknown as NodeJS.ReadStream,
      debug: false,
      exitOnCtrlC: false,
      patchConsole: false,
      incrementalRendering: false,
      maxFps,
      onRender: this.onRender,
    };
  }
}

// ---------------------------------------------------------------------------------------------- services

/** The App's services, for a screen that is given its data: the rest is never called. */
export function stubServices(): AppServices {
  const no = () => Promise.reject(new Error('not used by this benchmark'));
  return {
    version: '0.1.0',
    operator: 'bench',
    now: () => Date.now(),
    home: no,
    sessions: no,
    start: no,
    resume: no,
    events: no,
    check: no,
  };
}

// ---------------------------------------------------------------------------------------------- sessions

export function planNode(path: string, kind = 'run'): PlanNode {
  const parts = path.split('/');
  return {
    path,
    id: parts.at(-1)!,
    title: kind === 'checklist' ? `Included checklist ${path}` : `Step ${path}: run the ${parts.at(-1)} task of the release`,
    kind,
    depth: parts.length - 1,
    parent: parts.length > 1 ? parts.slice(0, -1).join('/') : null,
    checklist: parts.length > 1 ? parts[0] : 'bench',
    scope: parts.length > 1 ? parts.slice(0, -1).join('/') : '',
    spec: kind === 'run' ? { run: `./scripts/${parts.at(-1)}.sh` } : {},
  };
}

/**
 * A plan of `steps` nodes: leaves at the top level, and every 50th node opens an include of 9 leaves (so the list
 * also shows include headings, whose status is derived from what is inside them).
 */
export function makePlan(steps: number): PlanNode[] {
  const plan: PlanNode[] = [];
  let g = 0;
  while (plan.length < steps) {
    if (plan.length % 50 === 49 && steps - plan.length >= 10) {
      const inc = `g${g++}`;
      plan.push(planNode(inc, 'checklist'));
      for (let j = 0; j < 9; j++) plan.push(planNode(`${inc}/t${j}`));
    } else plan.push(planNode(`s${plan.length}`));
  }
  return plan;
}

export interface SessionSpec {
  steps: number;
  /** Total step.output events (one line each). */
  lines: number;
  /** Steps that get output, and each one's share of `lines` (the rest of the lines go to the last of them). */
  outputAt: Array<{ index: number; share: number }>;
  /** The step (index into the plan) that fails; the steps before it pass, the session stops there. null: all pass. */
  failAt: number | null;
  /** Stop adding events at this total (the session then ends where it is). */
  maxEvents?: number;
}

const T0 = 1_700_000_000_000;

/** A recorded session as AuditEvents (seq from 1), events 10 ms apart; the same shape test/unit/replay.test.ts builds. */
export function makeEvents(spec: SessionSpec, sessionId = 'bench-session'): AuditEvent[] {
  const plan = makePlan(spec.steps);
  const events: AuditEvent[] = [];
  let time = T0;
  const add = <T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T]) => {
    if (events.length) time += 10;
    const e: AuditEvent<T> = { sessionId, seq: events.length + 1, time, type, stepId, actor: 'alice', data };
    events.push(e as AuditEvent); // AuditEvent<T> is one member of the union; TypeScript cannot see that for a generic T
  };
  add('session.started', null, {
    checklist: { id: 'bench', title: 'Benchmark release', sha256: 'ab'.repeat(32) },
    origin: { file: 'checklists/bench.yaml', byId: true },
    params: { version: '2.3.1' },
    environment: 'staging',
    operator: 'alice',
    host: 'bench-host',
    pid: 1,
    mode: 'interactive',
    version: '0.1.0',
    plan,
    scopes: { '': { checklist: 'bench', params: { version: '2.3.1' } } },
  });
  const linesFor = new Map<number, number>();
  let given = 0;
  spec.outputAt.forEach(({ index, share }, k) => {
    const n = k === spec.outputAt.length - 1 ? spec.lines - given : Math.floor(spec.lines * share);
    linesFor.set(index, n);
    given += n;
  });
  const full = () => spec.maxEvents !== undefined && events.length >= spec.maxEvents;
  for (let i = 0; i < plan.length && !full(); i++) {
    const n = plan[i];
    if (n.kind === 'checklist') continue;
    add('step.started', n.path, { attempt: 1 });
    const lines = linesFor.get(i) ?? 0;
    for (let j = 0; j < lines && !full(); j++) {
      add('step.output', n.path, {
        stream: 'stdout',
        text: ` ✓ test/unit/${n.id}.test.ts > release task ${n.id} > case ${String(j).padStart(6, '0')} passes with the expected output 12ms\n`,
      });
    }
    if (full()) break;
    if (i === spec.failAt) {
      add('step.failed', n.path, { exitCode: 1, reason: 'exited with code 1', durationMs: 10 * (lines + 1) });
      add('session.paused', n.path, { reason: 'step-failed', message: `step ${n.path} failed` });
      return events;
    }
    add('step.passed', n.path, { exitCode: 0, durationMs: 10 * (lines + 1) });
  }
  if (!full()) add('session.finished', null, { outcome: 'succeeded' });
  return events;
}

// ---------------------------------------------------------------------------------------------- stats / printing

export interface Stats {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, p50: rank(0.5), p95: rank(0.95), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const ms = (v: number, digits = 2) => `${v.toFixed(digits).padStart(8)} ms`;
export const verdict = (ok: boolean) => (ok ? 'PASS' : 'OVER');
