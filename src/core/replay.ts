import type { AuditEvent } from './events.js';
import { exhaustive } from './exhaustive.js';
import { approvalWords } from './approval.js';
import { deployWords } from './deploy/words.js';
import { isRunContinuation, reduce, reduceRange, type SessionState } from './reducer.js';
import { neutralize } from './sanitize.js';

/**
 * The pure model behind the replay screen: a session's events, the state at any position (from checkpoints,
 * folded on demand or ahead of time in small slices), the markers worth jumping to, a virtual playback clock and
 * the layout of the timeline bar. No I/O and no clock: every time comes in as an argument.
 *
 * Positions count events: `pos` is the moment after the first `pos` events (1 = just started, length = the end).
 */

export type MarkerKind = 'failure' | 'skip' | 'note' | 'approval' | 'deploy' | 'resume' | 'finish';

export interface Marker {
  /** The position that shows the event (its index + 1). */
  pos: number;
  time: number;
  kind: MarkerKind;
  stepId: string | null;
  /** One short line of plain text. */
  label: string;
}

/** Longest label text, in characters, before it is cut with "…". */
export const LABEL_MAX = 72;

/** One line of plain text, at most `max` characters. */
function oneLine(text: string, max = LABEL_MAX): string {
  const t = neutralize(text).replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1).trimEnd() + '…' : t;
}

function markerOf(e: AuditEvent): { kind: MarkerKind; label: string } | null {
  const step = e.stepId ?? '?';
  switch (e.type) {
    case 'step.failed': {
      const d = e.data;
      return { kind: 'failure', label: oneLine(`✗ ${step} failed: ${d.reason}`) };
    }
    case 'step.skipped': {
      const d = e.data;
      if (d.by !== 'operator') return null;
      return { kind: 'skip', label: oneLine(`↷ ${step} skipped by ${e.actor}: ${d.reason}`) };
    }
    case 'note.added': {
      const d = e.data;
      return { kind: 'note', label: oneLine(`✎ ${e.stepId ? `${e.stepId}: ` : ''}${d.text} (${e.actor})`) };
    }
    case 'step.confirmed': {
      const d = e.data;
      return { kind: 'approval', label: oneLine(`✓ ${step} confirmed by ${d.by}${d.note ? `: ${d.note}` : ''}`) };
    }
    case 'session.resumed': {
      const d = e.data;
      return { kind: 'resume', label: oneLine(`↻ resumed by ${d.operator} on ${d.host}${d.forced ? ' (forced: checklist changed)' : ''}`) };
    }
    case 'session.finished': {
      const d = e.data;
      return { kind: 'finish', label: oneLine(`■ ${d.outcome}${d.reason ? `: ${d.reason}` : ''}`) };
    }
    case 'approval.granted':
    case 'approval.rejected':
    case 'approval.resolved':
      return { kind: 'approval', label: oneLine(`✓ ${step}: ${approvalWords(e)}`) };
    // What reached an environment: a deploy, a switch, a rollback's choice (a build changes no environment).
    case 'deploy.deployed':
    case 'deploy.switched':
    case 'deploy.rollback':
      return { kind: 'deploy', label: oneLine(`⇄ ${step}: ${deployWords(e)}`) };
    case 'approval.ignored':
      return { kind: 'failure', label: oneLine(`✗ ${step}: ${approvalWords(e)}`) };
    // No marker: the run's progress, its output and the watch's events.
    case 'session.started':
    case 'session.paused':
    case 'approval.requested':
    case 'step.started':
    case 'step.spawned':
    case 'step.output':
    case 'step.passed':
    case 'step.interrupted':
    case 'step.probed':
    case 'smoke.check':
    case 'deploy.built':
    case 'notify.sending':
    case 'notify.retrying':
    case 'notify.delivered':
    case 'notify.failed':
    case 'release.published':
    case 'watch.started':
    case 'watch.preflight':
    case 'watch.baseline':
    case 'watch.sample':
    case 'watch.breach':
    case 'watch.recovery':
    case 'watch.connection':
    case 'watch.finished':
      return null;
    default:
      exhaustive(e);
      return null;
  }
}

function clampInt(n: number, lo: number, hi: number): number {
  if (Number.isNaN(n)) return lo;
  const i = Math.floor(n);
  return i < lo ? lo : i > hi ? hi : i;
}

/**
 * What folding an output line costs when it continues its step's run (reduceRange folds the run at once), as a
 * share of folding one event on its own: measured about 1/12 to 1/15 with 500 steps (scripts/bench/replay.tsx).
 */
export const RUN_LINE_COST = 1 / 16;

export class Replay {
  readonly length: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly markers: Marker[];
  readonly checkpointEvery: number;

  readonly #events: readonly AuditEvent[];
  /** times[i] = time of events[i], raised to the latest earlier time if the clock went backwards: never decreases. */
  readonly #times: Float64Array;
  readonly #markerPos: Int32Array;
  /** work[p] = the cost of folding events[0..p) (see foldCost), so the cost between two positions is a subtraction. */
  readonly #work: Float64Array;
  /**
   * #checkpoints[k] = state at pos max(1, k * checkpointEvery); filled contiguously from k = 0. A checkpoint shares
   * all it can with its neighbours (copy-on-write states): about 11 KB each with 500 steps, 1.1 MB for a 100k-event
   * session at the default spacing of 1,000; the per-event arrays below cost 16 bytes an event (scripts/bench/replay.tsx).
   */
  readonly #checkpoints: SessionState[] = [];
  /** The furthest state folded so far (checkpoints exist for every multiple of checkpointEvery up to it). */
  #frontierPos: number;
  #frontier: SessionState;
  /** The last state asked for: playback asks for pos, pos+1, pos+2 … and folds one event each. */
  #lastPos: number;
  #last: SessionState;

  constructor(events: readonly AuditEvent[], opts: { checkpointEvery?: number } = {}) {
    if (events.length === 0) throw new Error('replay: the session has no events');
    const first = events[0];
    if (first.type !== 'session.started') {
      throw new Error(`replay: session ${first.sessionId} begins with ${first.type} (seq ${first.seq}), not session.started`);
    }
    const every = opts.checkpointEvery ?? 1000;
    if (!Number.isInteger(every) || every < 1) throw new Error(`replay: checkpointEvery must be a positive integer, not ${every}`);
    this.checkpointEvery = every;
    this.#events = events;
    this.length = events.length;

    const n = events.length;
    const times = new Float64Array(n);
    const work = new Float64Array(n + 1);
    const markers: Marker[] = [];
    let t = first.time;
    for (let i = 0; i < n; i++) {
      const e = events[i];
      work[i + 1] = work[i] + (isRunContinuation(events, i) ? RUN_LINE_COST : 1);
      if (e.time > t) t = e.time;
      times[i] = t;
      const m = markerOf(e);
      if (m) markers.push({ pos: i + 1, time: t, kind: m.kind, stepId: e.stepId, label: m.label });
    }
    this.#times = times;
    this.#work = work;
    this.markers = markers;
    this.#markerPos = Int32Array.from(markers, (m) => m.pos);
    this.startTime = first.time;
    this.endTime = times[n - 1];

    const s0 = reduce(null, first);
    this.#checkpoints.push(s0);
    if (every === 1) this.#checkpoints.push(s0); // pos 1 is both k = 0 and k = 1
    this.#frontierPos = 1;
    this.#frontier = s0;
    this.#lastPos = 1;
    this.#last = s0;
  }

  /** The event shown last at `pos` (events[pos-1]). */
  eventAt(pos: number): AuditEvent {
    return this.#events[clampInt(pos, 1, this.length) - 1];
  }

  /** True once checkpoints cover the whole session. */
  get precomputed(): boolean {
    return this.#frontierPos >= this.length;
  }

  /**
   * Fold `from` (the state at `fromPos`) forward to `toPos`, recording checkpoints when passing the frontier. The
   * fold goes from stop to stop (the frontier, each checkpoint past it, the target) with reduceRange, which folds a
   * run of output lines at once.
   */
  #fold(fromPos: number, from: SessionState, toPos: number): SessionState {
    const every = this.checkpointEvery;
    let s = from;
    let p = fromPos;
    while (p < toPos) {
      const stop = p < this.#frontierPos ? Math.min(toPos, this.#frontierPos) : Math.min(toPos, (Math.floor(p / every) + 1) * every);
      s = reduceRange(s, this.#events, p, stop); // the state at `stop`
      p = stop;
      if (p > this.#frontierPos) {
        if (p % every === 0) this.#checkpoints[p / every] = s;
        this.#frontierPos = p;
        this.#frontier = s;
      }
    }
    return s;
  }

  /** The nearest known state at or below target: a checkpoint, the frontier or the last answer. */
  #base(target: number): { basePos: number; base: SessionState } {
    let basePos = 1;
    let base = this.#checkpoints[0];
    const k = Math.floor(target / this.checkpointEvery);
    const cp = k < this.#checkpoints.length ? this.#checkpoints[k] : undefined;
    if (cp && k > 0) {
      basePos = k * this.checkpointEvery;
      base = cp;
    }
    if (this.#frontierPos <= target && this.#frontierPos > basePos) {
      basePos = this.#frontierPos;
      base = this.#frontier;
    }
    if (this.#lastPos <= target && this.#lastPos > basePos) {
      basePos = this.#lastPos;
      base = this.#last;
    }
    return { basePos, base };
  }

  stateAt(pos: number): SessionState {
    const target = clampInt(pos, 1, this.length);
    const { basePos, base } = this.#base(target);
    const s = this.#fold(basePos, base, target);
    this.#lastPos = target;
    this.#last = s;
    return s;
  }

  /**
   * What `stateAt(pos)` would cost now, in events folded one by one (an output line that continues its step's run
   * costs RUN_LINE_COST of one): a screen can show something else while that is large.
   */
  foldCost(pos: number): number {
    const target = clampInt(pos, 1, this.length);
    return this.#work[target] - this.#work[this.#base(target).basePos];
  }

  /** How far the session has been folded (checkpoints exist up to here). */
  get frontier(): number {
    return this.#frontierPos;
  }

  precompute(maxEvents: number): boolean {
    if (this.#frontierPos < this.length && maxEvents > 0) {
      const to = Math.min(this.length, this.#frontierPos + Math.floor(maxEvents));
      this.#fold(this.#frontierPos, this.#frontier, to);
    }
    return this.#frontierPos >= this.length;
  }

  timeAt(pos: number): number {
    return this.#times[clampInt(pos, 1, this.length) - 1];
  }

  posAtTime(t: number): number {
    const times = this.#times;
    // First index whose time is > t; the answer is that index (= number of events at or before t).
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(1, lo);
  }

  /** How many markers are at or before `pos` (binary search over their positions). */
  #markersUpTo(pos: number): number {
    const mp = this.#markerPos;
    let lo = 0;
    let hi = mp.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (mp[mid] <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The last marker at or before `pos` (what the status line names), or null. */
  markerAt(pos: number): Marker | null {
    const n = this.#markersUpTo(pos);
    return n > 0 ? this.markers[n - 1] : null;
  }

  nextMarker(pos: number): number | null {
    const n = this.#markersUpTo(pos);
    return n < this.#markerPos.length ? this.#markerPos[n] : null;
  }

  prevMarker(pos: number): number | null {
    const n = this.#markersUpTo(pos - 1);
    return n > 0 ? this.#markerPos[n - 1] : null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Playback: a virtual clock over the events.

export const SPEEDS: readonly number[] = [0.5, 1, 2, 5, 10, 30, 100, Infinity]; // Infinity = "max"
export const IDLE_GAP_MS = 5000;

export interface Playback {
  pos: number;
  playing: boolean;
  speed: number;
  /** virtual time shown, epoch ms */
  vtime: number;
}

export function startPlayback(replay: Replay, speed = 1): Playback {
  return { pos: 1, playing: replay.length > 1, speed, vtime: replay.startTime };
}

/**
 * Advance by `elapsedMs` of real time. Virtual time moves elapsedMs*speed; a quiet gap between two events longer
 * than IDLE_GAP_MS is played as IDLE_GAP_MS (vtime runs IDLE_GAP_MS into the gap, then jumps to the next event).
 * With speed Infinity, moves max(1, ceil(length/200)) events per call. Stops at the end.
 */
export function advance(replay: Replay, p: Playback, elapsedMs: number): Playback {
  if (!p.playing) return p;
  const n = replay.length;
  if (p.pos >= n) return { ...p, pos: n, playing: false, vtime: replay.endTime };
  if (p.speed === Infinity) {
    const pos = Math.min(n, p.pos + Math.max(1, Math.ceil(n / 200)));
    return { ...p, pos, playing: pos < n, vtime: replay.timeAt(pos) };
  }
  let budget = elapsedMs * p.speed;
  if (!(budget > 0)) return p;
  let pos = p.pos;
  let here = replay.timeAt(pos);
  // How far into the (possibly shortened) gap after `pos` the clock already is.
  let into = Math.max(0, p.vtime - here);
  while (pos < n) {
    const next = replay.timeAt(pos + 1);
    const gap = Math.min(next - here, IDLE_GAP_MS);
    const left = gap - into;
    if (budget < left) {
      return { ...p, pos, vtime: here + into + budget };
    }
    budget -= Math.max(0, left);
    pos++;
    here = next;
    into = 0;
  }
  return { ...p, pos: n, playing: false, vtime: replay.endTime };
}

/** Move by `delta` events (clamped) and pause. */
export function stepBy(replay: Replay, p: Playback, delta: number): Playback {
  const pos = clampInt(p.pos + delta, 1, replay.length);
  return { ...p, pos, playing: false, vtime: replay.timeAt(pos) };
}

/** Jump to `pos` (clamped); playing or paused stays as it was. */
export function seek(replay: Replay, p: Playback, pos: number): Playback {
  const to = clampInt(pos, 1, replay.length);
  return { ...p, pos: to, vtime: replay.timeAt(to) };
}

/** The next (1) or previous (-1) entry of SPEEDS, clamped; a speed not in SPEEDS moves to the nearest one that way. */
export function changeSpeed(p: Playback, dir: 1 | -1): Playback {
  let speed = p.speed;
  if (dir > 0) {
    const up = SPEEDS.find((s) => s > p.speed);
    if (up !== undefined) speed = up;
  } else {
    const down = SPEEDS.filter((s) => s < p.speed).at(-1);
    if (down !== undefined) speed = down;
  }
  return speed === p.speed ? p : { ...p, speed };
}

/** Short text for a speed: "0.5×", "10×", "max". */
export function speedLabel(speed: number): string {
  return speed === Infinity ? 'max' : `${speed}×`;
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline bar.

const SEVERITY: Record<MarkerKind, number> = { failure: 7, skip: 6, approval: 5, deploy: 4, note: 3, resume: 2, finish: 1 };

/** The cell of a bar `width` cells wide that time `t` falls in (equal slices of startTime..endTime). */
export function timelineCell(replay: Replay, width: number, t: number): number {
  const w = Math.floor(width);
  const span = replay.endTime - replay.startTime;
  if (w <= 1 || !(span > 0)) return 0;
  return clampInt(((t - replay.startTime) / span) * w, 0, w - 1);
}

/**
 * Place markers on a bar of `width` cells, proportional to time (startTime..endTime; a zero-length session puts all
 * at 0). Returns one entry per cell that holds a marker, in cell order, the most severe kind winning
 * (failure > skip > approval > note > resume > finish), and the cell of the current position `pos`.
 */
export function timelineCells(
  replay: Replay,
  width: number,
  pos: number,
): { cursor: number; marks: Array<{ cell: number; kind: MarkerKind }> } {
  const cursor = timelineCell(replay, width, replay.timeAt(pos));
  if (!(Math.floor(width) >= 1)) return { cursor: 0, marks: [] };
  const best = new Map<number, MarkerKind>();
  for (const m of replay.markers) {
    const cell = timelineCell(replay, width, m.time);
    const had = best.get(cell);
    if (had === undefined || SEVERITY[m.kind] > SEVERITY[had]) best.set(cell, m.kind);
  }
  const marks = [...best].map(([cell, kind]) => ({ cell, kind }));
  marks.sort((a, b) => a.cell - b.cell);
  return { cursor, marks };
}
