import type { ParamValue } from './checklist/types.js';
import type { AuditEvent, DeployColour, Outcome, PlanNode, Scope } from './events.js';
import type { RecoveryStart } from './recovery.js';
import { exhaustive } from './exhaustive.js';
import { approvalWords } from './approval.js';
import { foldWatch, type WatchPanel } from './watch/panel.js';

export type StepStatus = 'pending' | 'running' | 'waiting' | 'passed' | 'failed' | 'skipped' | 'interrupted';
export type SessionStatus = 'running' | 'waiting' | 'failed' | 'interrupted' | 'succeeded' | 'aborted';

export const TAIL_LINES = 200;

export interface OutputState {
  lines: number;
  bytes: number;
  /** The last complete lines (at most TAIL_LINES). */
  tail: string[];
  /** The current incomplete line. */
  partial: string;
}

export interface StepState {
  path: string;
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  /** Why it failed, was skipped, interrupted or is waiting. */
  reason?: string;
  skippedBy?: 'condition' | 'operator';
  via?: string;
  /** Passed with nothing to check, and why (drawn ○, not ✔). */
  nothingToCheck?: string;
  confirmedBy?: string;
  confirmedVia?: 'flag' | 'prompt';
  pid?: number;
  pidStart?: number | null;
  command?: string;
  probe?: { result: string; detail: string };
  /** An approve step's verdict in words (approved by whom, rejected, expired), once it has one. */
  approval?: string;
  /** What the step does, as its kind described it when it started (the commands, the files). */
  description?: string;
  output: OutputState;
}

export interface Note {
  time: number;
  actor: string;
  stepId: string | null;
  text: string;
}

export interface SessionState {
  id: string;
  checklist: { id: string; title: string; sha256: string };
  params: Record<string, ParamValue>;
  environment: string | null;
  operator: string;
  host: string;
  pid: number;
  startedAt: number;
  endedAt?: number;
  lastTime: number;
  seq: number;
  status: SessionStatus;
  outcome?: Outcome;
  pause?: { reason: string; message: string; hint?: string; stepId: string | null };
  plan: PlanNode[];
  index: Record<string, number>;
  scopes: Record<string, Scope>;
  steps: StepState[];
  current: string | null;
  notes: Note[];
  resumes: Array<{ time: number; operator: string; forced: boolean }>;
  /** The post-deploy watch's panel, when a watch step has run (the latest one). */
  watch?: WatchPanel;
  /** A recovery session's clock start (core/recovery.ts: readRecovery reads it). */
  recovery?: RecoveryStart;
  /** The recovery time the finishing process measured. */
  recoveredMs?: number;
  /** Per environment, what this session's deploy steps did there (the switch step switches to the colour deployed). */
  deploys?: Record<string, DeployFacts>;
  /** Where this session's publish step published the release (the latest; `url` null when its command printed none). */
  published?: { version: string; url: string | null };
}

/** What the session deployed to an environment, switched there, and rolled back to (the latest of each). */
export interface DeployFacts {
  built?: { version: string; image?: string; digest?: string; artifact?: string; sha256?: string };
  deployed?: {
    version: string;
    colour: DeployColour | null;
    liveBefore: DeployColour | null;
    versionBefore: string | null;
    step: string | null;
  };
  switched?: { from: DeployColour | null; to: DeployColour; version: string | null; keepPreviousUntil: number | null };
  rollback?: { version: string; source: 'step' | 'history' | 'tag'; how: 'switch-back' | 'redeploy'; colour: DeployColour | null };
  /** The version this session made live there: by a switch, an in-place or first deploy, a rollback. */
  live?: { version: string };
}

const EMPTY_OUTPUT: OutputState = { lines: 0, bytes: 0, tail: [], partial: '' };

function freshStep(path: string): StepState {
  return { path, status: 'pending', attempts: 0, output: EMPTY_OUTPUT };
}

function indexOf(plan: PlanNode[]): Record<string, number> {
  const index: Record<string, number> = {};
  plan.forEach((n, i) => (index[n.path] = i));
  return index;
}

function appendOutput(out: OutputState, text: string): OutputState {
  const pieces = (out.partial + text).split('\n');
  const partial = pieces.pop() ?? '';
  const newLines = pieces.length;
  let tail = out.tail;
  if (newLines) {
    tail = newLines >= TAIL_LINES ? pieces.slice(-TAIL_LINES) : tail.concat(pieces);
    if (tail.length > TAIL_LINES) tail = tail.slice(tail.length - TAIL_LINES);
  }
  return { lines: out.lines + newLines, bytes: out.bytes + text.length, tail, partial };
}

/** Replace the steps at the given indices (copy-on-write: one array copy per event). */
function update(state: SessionState, changes: Array<[number, StepState]>, extra: Partial<SessionState>): SessionState {
  const steps = state.steps.slice();
  for (const [i, s] of changes) steps[i] = s;
  return { ...state, ...extra, steps };
}

function foldDeploy(
  deploys: Record<string, DeployFacts>,
  e: Extract<AuditEvent, { type: 'deploy.built' | 'deploy.deployed' | 'deploy.switched' | 'deploy.rollback' }>,
): Record<string, DeployFacts> {
  const d = e.data;
  const facts = deploys[d.env] ?? {};
  let next: DeployFacts;
  switch (e.type) {
    case 'deploy.built': {
      const b = e.data;
      next = { ...facts, built: { version: b.version, image: b.image, digest: b.digest, artifact: b.artifact, sha256: b.sha256 } };
      break;
    }
    case 'deploy.deployed': {
      const x = e.data;
      next = {
        ...facts,
        deployed: { version: x.version, colour: x.colour, liveBefore: x.liveBefore, versionBefore: x.versionBefore, step: e.stepId },
        // In place, or the first deploy (nothing was live): the version deployed is live.
        ...(x.colour === null || x.liveBefore === null ? { live: { version: x.version } } : {}),
      };
      break;
    }
    case 'deploy.switched': {
      const x = e.data;
      next = {
        ...facts,
        switched: { from: x.from, to: x.to, version: x.version, keepPreviousUntil: x.keepPreviousUntil },
        ...(x.version !== null ? { live: { version: x.version } } : {}),
      };
      break;
    }
    case 'deploy.rollback': {
      const x = e.data;
      // Recorded before the script runs: a failed rollback fails its step, and the smoke after it does not run.
      next = { ...facts, rollback: { version: x.version, source: x.source, how: x.how, colour: x.colour }, live: { version: x.version } };
      break;
    }
    default:
      exhaustive(e);
      return deploys;
  }
  return { ...deploys, [d.env]: next };
}

export function initialState(event: AuditEvent<'session.started'>): SessionState {
  const d = event.data;
  return {
    id: event.sessionId,
    checklist: d.checklist,
    params: d.params,
    environment: d.environment,
    operator: d.operator,
    host: d.host,
    pid: d.pid,
    startedAt: event.time,
    lastTime: event.time,
    seq: event.seq,
    status: 'running',
    plan: d.plan,
    index: indexOf(d.plan),
    scopes: d.scopes,
    steps: d.plan.map((n) => freshStep(n.path)),
    current: null,
    notes: [],
    resumes: [],
    ...(d.recovery ? { recovery: d.recovery } : {}),
  };
}

/** Fold one event into the state. Pure: the live run, resume, replay and reports all use this. */
export function reduce(state: SessionState | null, event: AuditEvent): SessionState {
  if (!state) {
    if (event.type !== 'session.started') throw new Error(`session ${event.sessionId}: first event is ${event.type}, not session.started`);
    return initialState(event);
  }
  const base = { seq: event.seq, lastTime: event.time };
  const i = event.stepId != null ? state.index[event.stepId] : undefined;
  const step = i !== undefined ? state.steps[i] : undefined;
  switch (event.type) {
    case 'session.started':
      return { ...state, ...base };
    case 'session.resumed': {
      const d = event.data;
      let next: SessionState = {
        ...state,
        ...base,
        status: 'running',
        pause: undefined,
        operator: d.operator,
        host: d.host,
        pid: d.pid,
        resumes: [...state.resumes, { time: event.time, operator: d.operator, forced: !!d.forced }],
      };
      if (d.plan) {
        const old = new Map(state.steps.map((s) => [s.path, s]));
        next = {
          ...next,
          plan: d.plan,
          index: indexOf(d.plan),
          scopes: d.scopes ?? state.scopes,
          steps: d.plan.map((n) => old.get(n.path) ?? freshStep(n.path)),
          checklist: d.forced ? { ...state.checklist, sha256: d.forced.newSha256 } : state.checklist,
        };
      }
      return next;
    }
    case 'session.paused': {
      const d = event.data;
      const status: SessionStatus =
        d.reason === 'confirmation-required' ? 'waiting' : d.reason === 'step-failed' ? 'failed' : 'interrupted';
      const changes: Array<[number, StepState]> =
        step && i !== undefined && d.reason === 'confirmation-required' ? [[i, { ...step, status: 'waiting', reason: d.message }]] : [];
      return update(state, changes, { ...base, status, current: null, pause: { ...d, stepId: event.stepId } });
    }
    case 'session.finished': {
      const d = event.data;
      return {
        ...state,
        ...base,
        status: d.outcome,
        outcome: d.outcome,
        endedAt: event.time,
        current: null,
        pause: undefined,
        ...(d.recoveredMs !== undefined ? { recoveredMs: d.recoveredMs } : {}),
      };
    }
    case 'watch.started':
    case 'watch.preflight':
    case 'watch.baseline':
    case 'watch.sample':
    case 'watch.breach':
    case 'watch.recovery':
    case 'watch.connection':
    case 'watch.finished':
      return { ...state, ...base, watch: foldWatch(state.watch, event) };
    // A smoke check's result: the step's output says it, and its failure reason sums them up.
    case 'smoke.check':
      return { ...state, ...base };
    case 'deploy.built':
    case 'deploy.deployed':
    case 'deploy.switched':
    case 'deploy.rollback':
      return { ...state, ...base, deploys: foldDeploy(state.deploys ?? {}, event) };
    case 'note.added': {
      const d = event.data;
      return { ...state, ...base, notes: [...state.notes, { time: event.time, actor: event.actor, stepId: event.stepId, text: d.text }] };
    }
    // An approval: the step says whom it waits for, then what was decided (the decisions themselves are in the log).
    case 'approval.requested':
      return step && i !== undefined ? update(state, [[i, { ...step, reason: approvalWords(event) }]], base) : { ...state, ...base };
    case 'approval.resolved':
      return step && i !== undefined
        ? update(state, [[i, { ...step, reason: undefined, approval: approvalWords(event) }]], base)
        : { ...state, ...base };
    case 'approval.granted':
    case 'approval.rejected':
    case 'approval.ignored':
      return { ...state, ...base };
    // A notification's delivery: the step's output says it as it happens, its failure reason sums it up. Where a
    // release was published (release.published): the step's output says it, `audit show` lists it, the state keeps it.
    case 'notify.sending':
    case 'notify.retrying':
    case 'notify.delivered':
    case 'notify.failed':
      return { ...state, ...base };
    // Kept: the release-notes message that follows links the published release.
    case 'release.published':
      return { ...state, ...base, published: { version: event.data.version, url: event.data.url } };
    // A step's events, folded below.
    case 'step.started':
    case 'step.spawned':
    case 'step.output':
    case 'step.confirmed':
    case 'step.passed':
    case 'step.failed':
    case 'step.skipped':
    case 'step.interrupted':
    case 'step.probed':
      break;
    default:
      // A type this version does not know (a newer cockpit wrote it): it only moves the position.
      exhaustive(event);
      return { ...state, ...base };
  }

  if (!step || i === undefined) return { ...state, ...base };

  switch (event.type) {
    case 'step.started': {
      const d = event.data;
      return update(
        state,
        [
          [
            i,
            {
              ...freshStep(step.path),
              // Asked first whether it may run again: it waits for the answer (step.confirmed) until then.
              status: d.asks ? 'waiting' : 'running',
              ...(d.asks ? { reason: d.asks } : {}),
              attempts: d.attempt,
              startedAt: event.time,
              output: EMPTY_OUTPUT,
              probe: step.probe,
              ...(d.description ? { description: d.description } : {}),
            },
          ],
        ],
        { ...base, current: step.path, status: d.asks ? 'waiting' : 'running', pause: undefined },
      );
    }
    case 'step.spawned': {
      const d = event.data;
      return update(state, [[i, { ...step, pid: d.pid, pidStart: d.startTime, command: d.command }]], base);
    }
    case 'step.output': {
      const d = event.data;
      return update(state, [[i, { ...step, output: appendOutput(step.output, d.text) }]], base);
    }
    case 'step.confirmed': {
      const d = event.data;
      // The answer to the question a step was started with (step.started's asks): now it runs.
      if (step.status === 'waiting' && state.current === step.path)
        return update(state, [[i, { ...step, status: 'running', reason: undefined, confirmedBy: d.by, confirmedVia: d.via }]], {
          ...base,
          status: 'running',
        });
      return update(state, [[i, { ...step, confirmedBy: d.by, confirmedVia: d.via }]], base);
    }
    case 'step.passed': {
      const d = event.data;
      return update(
        state,
        [
          [
            i,
            {
              ...step,
              status: 'passed',
              endedAt: event.time,
              durationMs: d.durationMs,
              exitCode: d.exitCode,
              via: d.via,
              nothingToCheck: d.nothingToCheck,
              reason: undefined,
            },
          ],
        ],
        { ...base, current: null },
      );
    }
    case 'step.failed': {
      const d = event.data;
      return update(
        state,
        [
          [
            i,
            {
              ...step,
              status: 'failed',
              endedAt: event.time,
              durationMs: d.durationMs,
              exitCode: d.exitCode,
              signal: d.signal,
              timedOut: d.timedOut,
              reason: d.reason,
            },
          ],
        ],
        { ...base, current: null },
      );
    }
    case 'step.skipped': {
      const d = event.data;
      const changes: Array<[number, StepState]> = [
        [i, { ...step, status: 'skipped', endedAt: event.time, reason: d.reason, skippedBy: d.by }],
      ];
      // Skipping an include skips everything inside it.
      const prefix = step.path + '/';
      for (let j = i + 1; j < state.plan.length && state.plan[j].path.startsWith(prefix); j++) {
        changes.push([j, { ...state.steps[j], status: 'skipped', reason: `inside skipped '${step.path}': ${d.reason}`, skippedBy: d.by }]);
      }
      return update(state, changes, { ...base, current: state.current === step.path ? null : state.current });
    }
    case 'step.interrupted': {
      const d = event.data;
      return update(state, [[i, { ...step, status: 'interrupted', endedAt: event.time, reason: d.reason }]], {
        ...base,
        current: state.current === step.path ? null : state.current,
      });
    }
    case 'step.probed': {
      const d = event.data;
      return update(state, [[i, { ...step, probe: { result: d.result, detail: d.detail } }]], base);
    }
    default:
      exhaustive(event);
      return { ...state, ...base };
  }
}

/**
 * appendOutput over the texts of events[from..to) (all step.output): the same result, without splitting every text.
 * Lines and bytes are counted; only the lines that end up in the tail (and the partial line) are cut out.
 */
function appendOutputRun(out: OutputState, events: readonly AuditEvent[], from: number, to: number): OutputState {
  const text = (p: number) => (events[p] as AuditEvent<'step.output'>).data.text;
  let bytes = out.bytes;
  let newLines = 0;
  for (let p = from; p < to; p++) {
    const t = text(p);
    bytes += t.length;
    for (let k = t.indexOf('\n'); k >= 0; k = t.indexOf('\n', k + 1)) newLines++;
  }
  if (newLines === 0) {
    let partial = out.partial;
    for (let p = from; p < to; p++) partial += text(p);
    return { lines: out.lines, bytes, tail: out.tail, partial };
  }
  // Back from the end to the event holding the (TAIL_LINES + 1)-th last newline: the kept lines all begin after it.
  let first = to;
  let seen = 0;
  while (first > from && seen <= TAIL_LINES) {
    first--;
    const t = text(first);
    for (let k = t.indexOf('\n'); k >= 0; k = t.indexOf('\n', k + 1)) seen++;
  }
  // Cut the lines from there on; a line that began before `first` is only whole when `first` is the run's start.
  let partial = first === from ? out.partial : '';
  let whole = first === from;
  const fresh: string[] = [];
  for (let p = first; p < to; p++) {
    const t = text(p);
    let at = 0;
    for (let k = t.indexOf('\n'); k >= 0; k = t.indexOf('\n', at)) {
      if (whole) fresh.push(partial + t.slice(at, k));
      whole = true;
      partial = '';
      at = k + 1;
    }
    partial += at === 0 ? t : t.slice(at);
  }
  let tail = fresh.length >= TAIL_LINES ? fresh.slice(-TAIL_LINES) : out.tail.concat(fresh);
  if (tail.length > TAIL_LINES) tail = tail.slice(tail.length - TAIL_LINES);
  return { lines: out.lines + newLines, bytes, tail, partial };
}

/**
 * Fold events[from..to) into `state`: exactly the state that reduce() gives one event at a time, faster. A run of
 * output lines of one step (most of a long session) is folded at once: one copy of the steps for the run, not one
 * per line. Replay folds with this (src/core/replay.ts).
 */
export function reduceRange(state: SessionState, events: readonly AuditEvent[], from: number, to: number): SessionState {
  let s = state;
  let p = from;
  while (p < to) {
    const e = events[p];
    if (e.type === 'step.output' && e.stepId != null) {
      let q = p + 1;
      while (q < to && events[q].type === 'step.output' && events[q].stepId === e.stepId) q++;
      const i = s.index[e.stepId];
      const step = typeof i === 'number' ? s.steps[i] : undefined;
      if (q - p > 1 && step) {
        const last = events[q - 1];
        s = update(s, [[i, { ...step, output: appendOutputRun(step.output, events, p, q) }]], { seq: last.seq, lastTime: last.time });
        p = q;
        continue;
      }
    }
    s = reduce(s, e);
    p++;
  }
  return s;
}

/** True when reduceRange folds events[p] with the run before it (an output line of the same step as the last event). */
export function isRunContinuation(events: readonly AuditEvent[], p: number): boolean {
  const e = events[p];
  const prev = p > 0 ? events[p - 1] : undefined;
  return e.type === 'step.output' && e.stepId != null && prev !== undefined && prev.type === 'step.output' && prev.stepId === e.stepId;
}

export function reduceAll(events: Iterable<AuditEvent>): SessionState | null {
  let s: SessionState | null = null;
  for (const e of events) s = reduce(s, e);
  return s;
}

const DONE: ReadonlySet<StepStatus> = new Set(['passed', 'skipped']);

/** The status an include shows: derived from what is inside it. */
export function groupStatus(state: SessionState, path: string): StepStatus {
  const i = state.index[path];
  const own = state.steps[i];
  if (own.status === 'skipped') return 'skipped';
  const prefix = path + '/';
  let any = false;
  let all = true;
  let result: StepStatus | null = null;
  for (let j = i + 1; j < state.plan.length && state.plan[j].path.startsWith(prefix); j++) {
    if (state.plan[j].kind === 'checklist') continue;
    const s = state.steps[j].status;
    any = true;
    if (s === 'running' || s === 'waiting' || s === 'failed' || s === 'interrupted') result ??= s;
    if (!DONE.has(s)) all = false;
  }
  if (result) return result;
  if (any && all) return 'passed';
  return state.steps.slice(i + 1).some((s) => s.path.startsWith(prefix) && DONE.has(s.status)) ? 'running' : 'pending';
}

/** The first step (not an include) that has not passed or been skipped: where a run continues. */
export function nextStep(state: SessionState): PlanNode | null {
  for (let j = 0; j < state.plan.length; j++) {
    const node = state.plan[j];
    if (node.kind === 'checklist' && state.steps[j].status !== 'skipped') continue;
    if (!DONE.has(state.steps[j].status)) return node;
  }
  return null;
}

/** Counts for a progress line: done (passed or skipped) of all leaf steps. */
export function progress(state: SessionState): { done: number; total: number; failed: number } {
  let done = 0;
  let total = 0;
  let failed = 0;
  state.plan.forEach((n, j) => {
    if (n.kind === 'checklist') return;
    total++;
    const s = state.steps[j].status;
    if (DONE.has(s)) done++;
    if (s === 'failed') failed++;
  });
  return { done, total, failed };
}
