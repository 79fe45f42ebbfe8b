import { trackAnchor } from './pending-anchors.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../adapters/clock.js';
import type { Identity } from '../adapters/identity.js';
import { isProcessAlive, stopOrphan } from '../adapters/shell.js';
import { AuditStoreError, type AuditStore, type LockRow } from '../audit/store.js';
import type { SessionHeader } from '../audit/hash.js';
import type { ChecklistBundle } from '../core/checklist/bundle.js';
import type { ParamValue } from '../core/checklist/types.js';
import { formatDuration } from '../core/duration.js';
import { sessionStarted, type NewEvent, type PlanNode, type Scope, type StoredEvent } from '../core/events.js';
import { evaluateConditions } from '../core/params.js';
import { redactedParams } from '../core/sanitize.js';
import { ancestors, buildPlan } from '../core/plan.js';
import { nextStep, reduce, reduceAll, type SessionState } from '../core/reducer.js';
import type { Decision, MessageReview, ReviewDecision, ServiceProvider, StepFacts, StepKind, StepOutcome } from '../steps/types.js';
import { OutputBuffer } from './output-buffer.js';
import { provideServices, type ServiceScope, type ServiceSettings } from './services.js';
import { CockpitError, ignoreCleanupError } from '../core/errors.js';
import { cockpitCommand, type CommandLine } from '../core/command-line.js';
import { objectiveFor, recoveryStart, type RecoveryBreach, type RecoveryStart } from '../core/recovery.js';

/** How the session asks its operator: a prompt in a terminal, or `--yes` flags when non-interactive. */
export interface Interaction {
  confirm(node: PlanNode, prompt: string, state: SessionState): Promise<Decision>;
  /**
   * Show a message a step is about to send (a `notify` step) and take the operator's send, edit, skip or abort.
   * Without it (a non-interactive run) the message is sent as rendered, and the step says so.
   */
  review?(node: PlanNode, message: MessageReview, state: SessionState): Promise<ReviewDecision>;
}

export interface EngineDeps {
  store: AuditStore;
  kinds: Map<string, StepKind>;
  identity: Identity;
  clock: Clock;
  repoDir: string;
  /** Extra environment for every command (from the config). */
  env?: Record<string, string>;
  interaction: Interaction;
  signal: AbortSignal;
  version: string;
  /** What the services of the step kinds are configured with (engine/services.ts says what they are). */
  settings?: ServiceSettings;
  /** Called after each event is durable and folded in: write before show. */
  onEvent?(event: StoredEvent, state: SessionState): void;
  /** Awaited before each step starts: the cockpit holds the run here while its operator is asked whether to quit. */
  gate?(): Promise<void>;
  /** Where the chain's head is anchored outside the store (git's refs/cockpit/audit): at every step's end and at the session's. */
  anchor?: AnchorPort;
  /**
   * The cockpit command for `args`, as the operator runs it from where they are (`--repo` when elsewhere; see
   * core/command-line.ts): what the hints print. Default: `cockpit <args>`.
   */
  command?: CommandLine;
}

/** The command line `deps` print for the operator (`cockpit resume …`). */
export const commandOf = (deps: Pick<EngineDeps, 'command'>): CommandLine => deps.command ?? ((args) => cockpitCommand(args));

/** Anchors a session's chain head outside the audit store. Never throws: a failure is the port's to report. */
export interface AnchorPort {
  record(sessionId: string, head: { seq: number; hash: string }): Promise<void>;
  /** The session ended: hand the anchors to the team's witness (push them to the remote). */
  publish(): Promise<void>;
}

/** The events after which the head is anchored: a step's end, a pause, the session's end. */
const ANCHOR_AFTER = new Set<string>([
  'step.passed',
  'step.failed',
  'step.skipped',
  'step.interrupted',
  'session.paused',
  'session.finished',
]);

export type ExitCode = 0 | 1 | 2 | 3;

export interface RunResult {
  exitCode: ExitCode;
  state: SessionState;
  message: string;
  hint?: string;
}

/** The engine refused or could not go on (a lock held, a finished session, a changed checklist, the log unwritable). */
export class EngineError extends CockpitError {
  constructor(message: string, exitCode: ExitCode = 2) {
    super(message, exitCode);
  }
}

const LOCK_STALE_MS = 90_000;
const HEARTBEAT_MS = 15_000;

export function newSessionId(now: number): string {
  const iso = new Date(now).toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

function lockScope(sessionId: string, environment: string | null): string {
  return environment ? `env:${environment}` : `session:${sessionId}`;
}

function envName(param: string): string {
  return `COCKPIT_PARAM_${param.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function secretValues(bundle: ChecklistBundle, scopes: Record<string, Scope>): string[] {
  const out: string[] = [];
  for (const scope of Object.values(scopes)) {
    const defs = bundle.byId.get(scope.checklist)?.checklist.params ?? {};
    for (const [name, value] of Object.entries(scope.params)) if (defs[name]?.secret) out.push(String(value));
  }
  return out;
}

async function takeLock(deps: EngineDeps, sessionId: string, environment: string | null, reason: string): Promise<string> {
  const scope = lockScope(sessionId, environment);
  const now = deps.clock.now();
  const lock: LockRow = {
    scope,
    sessionId,
    holder: deps.identity.operator,
    host: deps.identity.host,
    pid: process.pid,
    reason,
    since: now,
    heartbeat: now,
  };
  const res = await deps.store.acquireLock(lock, (held) =>
    held.host === deps.identity.host ? !isProcessAlive(held.pid) : now - held.heartbeat > LOCK_STALE_MS,
  );
  if (!res.ok) throw new EngineError(heldMessage(res.held, environment), 1);
  return scope;
}

/**
 * Who holds a lock, in one sentence a second operator can act on. Built from the lock's own fields (the holder,
 * host, pid, time and what it is doing: `run release`, `resume release`), which never hold a parameter's value.
 */
export function heldMessage(h: LockRow, environment: string | null): string {
  const since = `${new Date(h.since).toISOString().slice(11, 19)} UTC`;
  const who = `${h.holder}@${h.host}, pid ${h.pid}, since ${since} (${h.reason})`;
  return (
    (environment
      ? `environment '${environment}' is in use by session ${h.sessionId}, run by ${who}`
      : `session ${h.sessionId} is being run by ${who}`) +
    `\n  the lock is released when that run stops; a dead holder's lock is taken over automatically.`
  );
}

/** A plan as built from the loaded checklist, with the parameters' real values. */
export interface LivePlan {
  plan: PlanNode[];
  scopes: Record<string, Scope>;
}

export interface StartInput {
  bundle: ChecklistBundle;
  params: Record<string, ParamValue>;
  origin: { file: string; byId: boolean };
  mode: 'interactive' | 'non-interactive';
  /**
   * The rollback was started from a watch (`R`, `--recovery-since`): its breach, read from the audit log, starts the
   * recovery clock (null: that watch had none). Without it the clock counts from the session's start.
   */
  recoveryFrom?: { watchSession: string; breach: RecoveryBreach | null };
}

export interface NewSessionInput {
  id: string;
  time: number;
  identity: Identity;
  version: string;
  /** The checklist as run: its text and sources are stored with the session (its hash covers them). */
  checklist: { id: string; title: string; sha256: string; text: string; sources: Record<string, string> };
  origin: { file: string; byId: boolean };
  params: Record<string, ParamValue>;
  environment: string | null;
  mode: 'interactive' | 'non-interactive';
  plan: PlanNode[];
  scopes: Record<string, Scope>;
  recovery?: RecoveryStart;
}

/**
 * A new session's header and its first event (`session.started`), for `store.createSession`: the one place they are
 * built, for checklist sessions (startSession) and for commands recorded as sessions (app/record-command.ts).
 */
export function newSessionRecord(input: NewSessionInput): { header: SessionHeader; first: NewEvent<'session.started'> } {
  const { checklist, identity, params, environment } = input;
  return {
    header: {
      id: input.id,
      checklistId: checklist.id,
      checklistTitle: checklist.title,
      checklistText: checklist.text,
      checklistSources: checklist.sources,
      checklistSha256: checklist.sha256,
      params,
      environment,
      operator: identity.operator,
      host: identity.host,
      startedAt: input.time,
    },
    first: {
      type: 'session.started',
      actor: identity.operator,
      time: input.time,
      data: {
        checklist: { id: checklist.id, title: checklist.title, sha256: checklist.sha256 },
        origin: input.origin,
        params,
        environment,
        operator: identity.operator,
        host: identity.host,
        pid: process.pid,
        mode: input.mode,
        version: input.version,
        plan: input.plan,
        scopes: input.scopes,
        ...(input.recovery ? { recovery: input.recovery } : {}),
      },
    },
  };
}

/** Create a session (after the lock is held), durable before anything runs. */
export async function startSession(deps: EngineDeps, input: StartInput): Promise<SessionRunner> {
  const { bundle, params } = input;
  const planned = buildPlan(bundle, params);
  if (planned.errors.length) throw new EngineError(planned.errors.join('\n'), 2);
  const now = deps.clock.now();
  const mono = deps.clock.monotonic?.();
  const id = newSessionId(now);
  const environment = typeof params.environment === 'string' ? params.environment : null;
  const root = bundle.root.checklist;
  deps.store.addSecrets(secretValues(bundle, planned.scopes));
  // The lock's reason is shown to whoever else tries, and stored: it names what runs, never a parameter's value.
  const scope = await takeLock(deps, id, environment, `run ${root.id}`);
  const objective = objectiveFor(root.objective, params);
  const from = input.recoveryFrom;
  const recovery = objective ? recoveryStart(objective, now, from?.breach ?? null, from?.watchSession) : undefined;
  const { header, first } = newSessionRecord({
    id,
    time: now,
    identity: deps.identity,
    version: deps.version,
    checklist: { id: root.id, title: root.title, sha256: bundle.sha256, text: bundle.root.source.text, sources: bundle.sources },
    origin: input.origin,
    params,
    environment,
    mode: input.mode,
    plan: planned.plan,
    scopes: planned.scopes,
    recovery,
  });
  const stored = await deps.store.createSession(header, first);
  const state = reduce(null, stored);
  deps.onEvent?.(stored, state);
  // Steps run from the plan as loaded: the log (and so the state) has secrets redacted, in parameters and commands.
  const runner = new SessionRunner(deps, state, scope, planned);
  if (mono !== undefined) runner.steady = { wall: now, mono };
  return runner;
}

export interface ResumeInput {
  sessionId: string;
  /** The checklist as it is now, from where session `sessionId` found it (null when it can no longer be found). */
  current(origin: { file: string; byId: boolean }, sessionId: string): ChecklistBundle | null;
  force: boolean;
  skip?: { step: string; reason: string };
  /** Checks against the plan the session will run (e.g. that --yes names its steps), before anything is recorded. */
  check?(plan: PlanNode[]): void;
  /** Secret parameters given again (`-p`): the log never held their values, so a resume must be told them. */
  params?: Record<string, string>;
}

/** Continue a session that stopped: crashed, failed, waiting for a confirmation, or interrupted. */
export async function resumeSession(deps: EngineDeps, input: ResumeInput): Promise<SessionRunner> {
  // The lock before the state: two resumes started together must not both read "b is next" and both run it. The
  // first read only finds which lock to take (a session's, or its environment's); everything is decided on the
  // state read again once the lock is held.
  const before = reduceAll(await deps.store.readEvents(input.sessionId));
  if (!before) throw new EngineError(`session ${input.sessionId} has no events`, 2);
  if (before.outcome) throw alreadyFinished(before);
  const scope = await takeLock(deps, before.id, before.environment, `resume ${before.checklist.id}`);
  try {
    return await resumeLocked(deps, input, scope);
  } catch (e) {
    await deps.store.releaseLock(scope, before.id).catch(ignoreCleanupError('a lock left behind is taken over once its holder is gone'));
    throw e;
  }
}

function alreadyFinished(state: SessionState): EngineError {
  return new EngineError(`session ${state.id} already finished (${state.outcome}); there is nothing to resume`, 2);
}

/** The rest of a resume, with the session's lock held: the state as it is now, and the checks on it. */
async function resumeLocked(deps: EngineDeps, input: ResumeInput, scope: string): Promise<SessionRunner> {
  const events = await deps.store.readEvents(input.sessionId);
  const state = reduceAll(events);
  if (!state) throw new EngineError(`session ${input.sessionId} has no events`, 2);
  if (state.outcome) throw alreadyFinished(state);
  const current = input.current(sessionStarted(events).data.origin, state.id);

  const oldSha = state.checklist.sha256;
  const changed = !current || current.sha256 !== oldSha;
  let plan: { plan: PlanNode[]; scopes: Record<string, Scope> } | undefined;
  if (changed && !input.force) {
    throw new EngineError(
      current
        ? `checklist '${state.checklist.id}' changed since session ${state.id} began (sha256 ${oldSha.slice(0, 12)} → ${current.sha256.slice(0, 12)}).\n  Resuming would run steps that differ from the ones the session started with. Re-run with --force to continue with the checklist as it is now (recorded in the audit log).`
        : `checklist '${state.checklist.id}' can no longer be found. Re-run with --force to continue with the version pinned in the session (recorded in the audit log).`,
      2,
    );
  }
  // Secret parameters were never stored: they must be given again, and only they may be.
  const missing = redactedParams(state.params);
  const given = input.params ?? {};
  for (const name of Object.keys(given)) {
    if (!missing.includes(name)) {
      throw new EngineError(
        `-p ${name}: only secret parameters (never stored) can be given to a resume${missing.length ? `; this session needs: ${missing.join(', ')}` : '; this session has none'}`,
        2,
      );
    }
  }
  const absent = missing.filter((name) => given[name] === undefined);
  if (absent.length) {
    throw new EngineError(
      `session ${state.id} uses secret parameters that are never stored; give them again: ${absent.map((n) => `-p ${n}=…`).join(' ')}`,
      2,
    );
  }
  deps.store.addSecrets(Object.values(given));
  const params = { ...state.params, ...given };
  // What the steps run: the checklist as loaded now, with the real parameters. Only when the checklist is gone
  // (a forced resume) does the session run its recorded plan, in which secrets were redacted.
  let live: LivePlan | undefined;
  if (current) {
    const planned = buildPlan(current, params);
    if (planned.errors.length) throw new EngineError(planned.errors.join('\n'), 2);
    if (changed) plan = planned;
    live = planned;
    deps.store.addSecrets(secretValues(current, planned.scopes));
  } else if (missing.length) {
    // At least the secrets given again reach the scopes that had them.
    const scopes = Object.fromEntries(
      Object.entries(state.scopes).map(([k, sc]) => [
        k,
        { ...sc, params: Object.fromEntries(Object.entries(sc.params).map(([n, v]) => [n, given[n] ?? v])) },
      ]),
    );
    live = { plan: state.plan, scopes };
  }
  input.check?.(plan?.plan ?? state.plan);
  const runner = new SessionRunner(deps, state, scope, live);
  await runner.emit([
    {
      type: 'session.resumed',
      actor: deps.identity.operator,
      data: {
        operator: deps.identity.operator,
        host: deps.identity.host,
        pid: process.pid,
        ...(changed ? { forced: { oldSha256: oldSha, newSha256: current?.sha256 ?? oldSha } } : {}),
        ...(plan ? { plan: plan.plan, scopes: plan.scopes } : {}),
      },
    },
  ]);
  await runner.markInterrupted();
  if (input.skip) await runner.skipByOperator(input.skip.step, input.skip.reason);
  return runner;
}

/** What the engine needs besides the way a session is driven (who answers confirmations, the stop signal, where events go). */
export type BaseDeps = Omit<EngineDeps, 'interaction' | 'signal' | 'onEvent'>;

/** Deps for recording on a stopped session (a note, an abort): no commands run, nothing is asked. */
export function recordingDeps(base: BaseDeps, onEvent?: EngineDeps['onEvent']): EngineDeps {
  return {
    ...base,
    interaction: { confirm: async () => ({ decision: 'unavailable', hint: '' }) },
    signal: new AbortController().signal,
    ...(onEvent ? { onEvent } : {}),
  };
}

/**
 * Take a stopped session's lock for a moment to record something on it (a note, an abort): refused while the
 * session runs in a live process, so two processes never append to one chain.
 */
export async function withStoppedSession(
  deps: EngineDeps,
  sessionId: string,
  reason: string,
  fn: (runner: SessionRunner) => Promise<void>,
): Promise<SessionState> {
  const before = reduceAll(await deps.store.readEvents(sessionId));
  if (!before) throw new EngineError(`session ${sessionId} has no events`, 2);
  const scope = await takeLock(deps, before.id, before.environment, reason);
  try {
    // Read again under the lock: what was recorded until the lock was taken is what the note or abort follows.
    const state = reduceAll(await deps.store.readEvents(sessionId))!;
    const runner = new SessionRunner(deps, state, scope);
    await fn(runner);
    await runner.settled();
    return runner.state;
  } finally {
    await deps.store.releaseLock(scope, before.id).catch(ignoreCleanupError('a lock left behind is taken over once its holder is gone'));
  }
}

/** Close a session that will not be resumed: whatever a crashed step left running is stopped first. */
export async function abortSession(deps: EngineDeps, sessionId: string, reason: string): Promise<SessionState> {
  if (!reason.trim()) throw new EngineError('aborting a session needs a reason (--reason "…")', 2);
  return withStoppedSession(deps, sessionId, 'abort', async (runner) => {
    if (runner.state.outcome) throw new EngineError(`session ${sessionId} already finished (${runner.state.outcome})`, 2);
    await runner.markInterrupted();
    await runner.emit([{ type: 'session.finished', data: { outcome: 'aborted', reason } }]);
  });
}

/** Runs a session's remaining steps, one at a time, appending every event before it is shown. */
export class SessionRunner {
  private chain: Promise<unknown> = Promise.resolve();
  /** Anchors being written (never rejects: the port reports its own failures). */
  private anchoring: Promise<void> = Promise.resolve();
  private writeError: Error | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /**
   * A recorded wall time (this process's session.started or session.resumed) and the monotonic reading taken with
   * it: the recovery clock's duration at the end is measured from there, so setting the system's time meanwhile does
   * not change it.
   */
  steady: { wall: number; mono: number } | null = null;

  constructor(
    private readonly deps: EngineDeps,
    public state: SessionState,
    private readonly lockScope: string,
    /** The plan and parameters as loaded (the state's, from the log, have secrets redacted); the state's when absent. */
    live?: LivePlan,
  ) {
    if (live) this.live = { scopes: live.scopes, byPath: new Map(live.plan.map((n) => [n.path, n])) };
  }

  private live?: { scopes: Record<string, Scope>; byPath: Map<string, PlanNode> };

  /** The step as loaded (what runs), for a step of the recorded plan (what is shown). */
  private real(node: PlanNode): PlanNode {
    return this.live?.byPath.get(node.path) ?? node;
  }

  get id(): string {
    return this.state.id;
  }

  /** Resolves when every append so far is durable; throws if one failed. */
  async settled(): Promise<void> {
    await this.chain;
    this.checkWrites();
  }

  /** Append events (serialised with every other append of this session), then fold and show them. */
  emit(list: NewEvent[]): Promise<StoredEvent[]> {
    const p = this.chain.then(async () => {
      const mono = this.deps.clock.monotonic?.();
      const stored = await this.deps.store.append(
        this.state.id,
        list.map((e) => ({ actor: this.deps.identity.operator, ...e, time: e.time ?? this.deps.clock.now() })),
      );
      for (const e of stored) {
        if (e.type === 'session.resumed' && mono !== undefined) this.steady = { wall: e.time, mono };
        this.state = reduce(this.state, e);
        this.deps.onEvent?.(e, this.state);
      }
      const last = stored.at(-1);
      const anchor = this.deps.anchor;
      if (last && anchor && stored.some((e) => ANCHOR_AFTER.has(e.type))) {
        // In the background, in order: a step's end is shown (and the next key works) without waiting for git.
        const finished = stored.some((e) => e.type === 'session.finished');
        const id = this.state.id;
        this.anchoring = this.anchoring
          .then(() => anchor.record(id, { seq: last.seq, hash: last.hash }))
          .then(() => (finished ? anchor.publish() : undefined));
        trackAnchor(this.anchoring);
      }
      return stored;
    });
    this.chain = p.catch((e: Error) => {
      this.writeError ??= e;
    });
    return p;
  }

  /** Ask before running an interrupted step again; null to go ahead, else the outcome (skipped, aborted, waiting). */
  private async askRerun(node: PlanNode, prompt: string): Promise<StepOutcome | null> {
    const d = await this.deps.interaction.confirm(node, prompt, this.state);
    switch (d.decision) {
      case 'yes':
        // Who said it may run again is part of the record.
        await this.emit([
          {
            type: 'step.confirmed',
            stepId: node.path,
            actor: d.by,
            data: { by: d.by, via: d.via, note: d.note ?? 'run again after an interruption' },
          },
        ]);
        return null;
      case 'skip':
        return { status: 'skipped', reason: d.reason };
      case 'abort':
        return { status: 'aborted', reason: d.reason };
      default:
        return {
          status: 'waiting',
          message: `step '${node.path}' was interrupted and may have run: check its effect, then confirm it may run again`,
          hint: d.hint,
        };
    }
  }

  /** A step that was running when the cockpit died: stop what it left running, record it as interrupted. */
  async markInterrupted(): Promise<void> {
    const path = this.state.current;
    if (!path) return;
    const step = this.state.steps[this.state.index[path]];
    let stoppedPid: number | undefined;
    if (step.pid && (await stopOrphan(step.pid, step.pidStart ?? null))) stoppedPid = step.pid;
    await this.emit([
      {
        type: 'step.interrupted',
        stepId: path,
        data: {
          reason: `the cockpit stopped while this step was running${stoppedPid ? `; its process group ${stoppedPid} was still running and was stopped` : ''}`,
          ...(stoppedPid ? { stoppedPid } : {}),
        },
      },
    ]);
  }

  async skipByOperator(stepRef: string, reason: string): Promise<void> {
    const node = this.findStep(stepRef);
    if (!node) throw new EngineError(`no step '${stepRef}' in session ${this.id}`, 2);
    if (!reason.trim()) throw new EngineError('skipping a step needs a reason (--reason "…")', 2);
    await this.emit([{ type: 'step.skipped', stepId: node.path, data: { reason, by: 'operator' } }]);
  }

  findStep(ref: string): PlanNode | undefined {
    return (
      this.state.plan.find((n) => n.path === ref) ??
      this.state.plan.find((n) => n.id === ref && this.state.steps[this.state.index[n.path]].status !== 'passed')
    );
  }

  async addNote(text: string, stepId: string | null = null): Promise<void> {
    await this.emit([{ type: 'note.added', stepId, data: { text } }]);
  }

  private scopeParams(node: PlanNode): Record<string, ParamValue> {
    return (this.live?.scopes ?? this.state.scopes)[node.scope]?.params ?? {};
  }

  /** What a step of this session is told (its facts), and its kind's declared services, built for it alone. */
  private context(node: PlanNode, attempt: number, output: OutputBuffer): { step: StepFacts; services: ServiceProvider } {
    const params = this.scopeParams(node);
    const env: Record<string, string> = {
      ...(this.deps.env ?? {}),
      COCKPIT_SESSION: this.state.id,
      COCKPIT_STEP: node.path,
      COCKPIT_REPO: this.deps.repoDir,
      COCKPIT_OPERATOR: this.deps.identity.operator,
    };
    for (const [k, v] of Object.entries(params)) env[envName(k)] = String(v);
    const scope: ServiceScope = {
      deps: this.deps,
      node,
      sessionId: this.id,
      output,
      state: () => this.state,
      emit: (events) => this.emit(events),
      drained: () => this.chain,
    };
    return {
      step: { node, params, repoDir: this.deps.repoDir, attempt, env, signal: this.deps.signal },
      services: (needs) => provideServices(scope, needs),
    };
  }

  /**
   * Stop when an append failed (a full disk, a store gone): nothing more runs that could not be recorded. After a
   * step, say what ran and how it ended, since the log cannot: the next resume finds the step interrupted and asks
   * before it runs it again.
   */
  private checkWrites(after?: { node: PlanNode; outcome: StepOutcome }): void {
    if (!this.writeError) return;
    // The store says which log and why in its own words; anything else is worded here.
    const why =
      this.writeError instanceof AuditStoreError
        ? this.writeError.message
        : `the audit log could not be written (${this.writeError.message})`;
    if (!after) throw new EngineError(`${why}: stopped, nothing more runs until it can be`, 1);
    const o = after.outcome;
    const ended =
      o.status === 'passed' || o.status === 'failed'
        ? `${o.status}${'exitCode' in o && o.exitCode !== undefined && o.exitCode !== null ? ` with exit code ${o.exitCode}` : ''}`
        : o.status;
    throw new EngineError(
      `${why} while step '${after.node.path}' (${after.node.title}) ran: it ${ended}, and that is not recorded. ` +
        `Stopped. Make room, then ${this.hint()}: the step shows as interrupted and you are asked before it runs again.`,
      1,
    );
  }

  private hint(...more: string[]): string {
    return commandOf(this.deps)(['resume', this.id, ...more]);
  }

  async run(): Promise<RunResult> {
    this.heartbeatTimer = setInterval(() => {
      void this.deps.store
        .heartbeat(this.lockScope, this.id, this.deps.clock.now())
        .catch(ignoreCleanupError('a missed heartbeat is retried at the next one; the lock stays ours while this process lives'));
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    try {
      const result = await this.loop();
      // Messages can quote the checklist as loaded (prompts, reasons): sanitised like everything shown.
      return { ...result, message: this.deps.store.clean(result.message), hint: result.hint && this.deps.store.clean(result.hint) };
    } finally {
      clearInterval(this.heartbeatTimer);
      await this.chain;
      await this.deps.store
        .releaseLock(this.lockScope, this.id)
        .catch(ignoreCleanupError('a lock left behind is taken over once its holder is gone'));
    }
  }

  /** A recovery session's clock now, measured on the monotonic clock from this process's anchor (none without both). */
  private recoveredMs(): { recoveredMs?: number } {
    const rec = this.state.recovery;
    const mono = this.deps.clock.monotonic?.();
    if (!rec || !this.steady || mono === undefined) return {};
    return { recoveredMs: Math.max(0, Math.round(this.steady.wall - rec.since + (mono - this.steady.mono))) };
  }

  private async stopForOperator(path: string | null): Promise<RunResult> {
    const events: NewEvent[] = [];
    if (path) events.push({ type: 'step.interrupted', stepId: path, data: { reason: 'stopped by the operator' } });
    events.push({
      type: 'session.paused',
      stepId: path,
      data: { reason: 'operator', message: 'stopped by the operator', hint: this.hint() },
    });
    await this.emit(events);
    return { exitCode: 3, state: this.state, message: `stopped by the operator; the session can be resumed`, hint: this.hint() };
  }

  private async loop(): Promise<RunResult> {
    const { kinds } = this.deps;
    for (;;) {
      this.checkWrites();
      if (this.deps.gate) await this.deps.gate();
      if (this.deps.signal.aborted) return this.stopForOperator(null);
      const next = nextStep(this.state);
      const node = next && this.real(next);
      if (!node) {
        await this.emit([{ type: 'session.finished', data: { outcome: 'succeeded', ...this.recoveredMs() } }]);
        const took = formatDuration(this.state.lastTime - this.state.startedAt);
        return { exitCode: 0, state: this.state, message: `all steps done in ${took} (${this.state.checklist.title})` };
      }
      // An include whose condition does not hold skips everything inside it.
      let skipped = false;
      for (const anc of ancestors(this.state.plan, this.state.index, node.path).map((a) => this.real(a))) {
        if (this.state.steps[this.state.index[anc.path]].status === 'skipped') continue;
        const c = evaluateConditions(anc.when, anc.unless, this.scopeParams(anc));
        if (!c.pass) {
          await this.emit([{ type: 'step.skipped', stepId: anc.path, actor: 'cockpit', data: { reason: c.reason, by: 'condition' } }]);
          skipped = true;
          break;
        }
      }
      if (skipped) continue;
      const cond = evaluateConditions(node.when, node.unless, this.scopeParams(node));
      if (!cond.pass) {
        await this.emit([{ type: 'step.skipped', stepId: node.path, actor: 'cockpit', data: { reason: cond.reason, by: 'condition' } }]);
        continue;
      }
      const kind = kinds.get(node.kind);
      const i = this.state.index[node.path];
      if (!kind) {
        await this.emit([
          {
            type: 'step.failed',
            stepId: node.path,
            data: { exitCode: null, reason: `this cockpit does not know step kind '${node.kind}'` },
          },
          {
            type: 'session.paused',
            stepId: node.path,
            data: { reason: 'step-failed', message: `unknown step kind '${node.kind}'`, hint: this.hint() },
          },
        ]);
        return { exitCode: 1, state: this.state, message: `step '${node.path}': unknown step kind '${node.kind}'` };
      }
      const before = this.state.steps[i];
      const attempt = before.attempts + 1;

      const output = new OutputBuffer((chunks) => {
        void this.emit(
          chunks.map((c) => ({
            type: 'step.output' as const,
            stepId: node.path,
            actor: 'cockpit',
            data: { stream: c.stream, text: c.text },
          })),
        );
      });
      const { step, services } = this.context(node, attempt, output);

      let probedNotDone = false;
      if (before.status === 'interrupted' && kind.probe && !kind.manual) {
        const pr = await kind.probe(step, services);
        probedNotDone = pr?.result === 'not-done';
        if (pr) {
          await this.emit([{ type: 'step.probed', stepId: node.path, actor: 'cockpit', data: pr }]);
          if (pr.result === 'done') {
            await this.emit([{ type: 'step.passed', stepId: node.path, actor: 'cockpit', data: { via: 'probe' } }]);
            continue;
          }
        }
      }

      // Interrupted, and nothing proved it had not had its effect (no probe, or one that could not tell): running it
      // again could do it twice (a second deploy, a second announcement). Asked first, unless it says it is idempotent.
      const unproven = before.status === 'interrupted' && !kind.manual && !kind.rerunSafe && !node.idempotent && !probedNotDone;
      // Recorded with the start: a replay draws the step waiting for the answer, as the operator saw it.
      const asks = unproven
        ? `'${node.title}' was interrupted while it ran${before.reason ? ` (${before.reason})` : ''}: it may already have had its effect. Run it again?`
        : null;
      const startedAt = this.deps.clock.now();
      const description = kind.describe(node, step.params, { ...this.deps.settings, command: commandOf(this.deps), session: this.id });
      await this.emit([{ type: 'step.started', stepId: node.path, data: { attempt, description, ...(asks ? { asks } : {}) } }]);
      let outcome: StepOutcome;
      try {
        const again = asks ? await this.askRerun(node, asks) : null;
        outcome = again ?? (await kind.execute(step, services));
      } catch (e) {
        outcome = { status: 'failed', exitCode: null, reason: `internal error: ${(e as Error).message}` };
      }
      output.flush(true);
      await this.chain;
      this.checkWrites({ node, outcome });
      const durationMs = this.deps.clock.now() - startedAt;

      switch (outcome.status) {
        case 'passed': {
          const events: NewEvent[] = [];
          if (outcome.confirmation)
            events.push({ type: 'step.confirmed', stepId: node.path, actor: outcome.confirmation.by, data: outcome.confirmation });
          events.push({
            type: 'step.passed',
            stepId: node.path,
            data: {
              durationMs,
              exitCode: outcome.exitCode,
              via: outcome.via,
              ...(outcome.nothingToCheck ? { nothingToCheck: outcome.nothingToCheck } : {}),
              ...(outcome.release ? { release: outcome.release } : {}),
            },
          });
          await this.emit(events);
          break;
        }
        case 'skipped':
          await this.emit([{ type: 'step.skipped', stepId: node.path, data: { reason: outcome.reason, by: 'operator' } }]);
          break;
        case 'failed': {
          await this.emit([
            {
              type: 'step.failed',
              stepId: node.path,
              data: {
                durationMs,
                exitCode: outcome.exitCode,
                signal: outcome.signal ?? null,
                timedOut: outcome.timedOut ?? false,
                reason: outcome.reason,
              },
            },
            {
              type: 'session.paused',
              stepId: node.path,
              data: {
                reason: 'step-failed',
                message: `step '${node.path}' failed: ${outcome.reason}`,
                hint: `fix the cause, then retry with: ${this.hint()}   (or skip it: ${this.hint('--skip', node.path, '--reason', '…')})`,
              },
            },
          ]);
          return {
            exitCode: 1,
            state: this.state,
            message: `step '${node.path}' (${node.title}) failed: ${outcome.reason}`,
            hint: this.state.pause?.hint,
          };
        }
        case 'waiting': {
          // The operator quit instead of answering: stopped by the operator (exit 3), not a run waiting for a flag.
          if (this.deps.signal.aborted) return this.stopForOperator(node.path);
          await this.emit([
            {
              type: 'session.paused',
              stepId: node.path,
              data: { reason: 'confirmation-required', message: outcome.message, hint: outcome.hint },
            },
          ]);
          return { exitCode: 1, state: this.state, message: outcome.message, hint: outcome.hint };
        }
        case 'aborted': {
          if (this.deps.signal.aborted) return this.stopForOperator(node.path);
          await this.emit([
            { type: 'step.interrupted', stepId: node.path, data: { reason: outcome.reason } },
            { type: 'session.finished', stepId: node.path, data: { outcome: 'aborted', reason: outcome.reason } },
          ]);
          return { exitCode: 3, state: this.state, message: `aborted by the operator: ${outcome.reason}` };
        }
      }
    }
  }
}
