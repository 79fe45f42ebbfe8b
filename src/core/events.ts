import type { Condition, ParamValue } from './checklist/types.js';
import type { RecoveryStart } from './recovery.js';

/** One step of a session's plan: a checklist's steps with includes expanded in place. */
export interface PlanNode {
  /** Unique in the session: the step id, prefixed by the ids of the `checklist` steps that include it (`staging/tests`). */
  path: string;
  id: string;
  title: string;
  kind: string;
  depth: number;
  parent: string | null;
  /** The checklist this step is written in. */
  checklist: string;
  help?: string;
  policy?: string;
  when?: Condition;
  unless?: Condition;
  /** Safe to run twice: an interrupted run of it is re-run without asking. */
  idempotent?: boolean;
  /** The include scope whose parameters the step sees ('' for the root checklist). */
  scope: string;
  /** The kind's own fields (run, timeout, use, with, prompt …), as written. */
  spec: Record<string, unknown>;
}

export interface Scope {
  checklist: string;
  params: Record<string, ParamValue>;
}

/** `session.started`'s origin file for a command run from the command line (src/cli/command-session.ts). */
export const COMMAND_LINE_ORIGIN = '(command line)';

/** How a session ended. `failed` only ends a command-line session (a checklist session that fails stays resumable). */
export type Outcome = 'succeeded' | 'aborted' | 'failed';

/** Event types and their data. New kinds of event are added here and folded in `reducer.ts`. */
export interface EventDataMap {
  'session.started': {
    /**
     * `sha256` is the checklist bundle as loaded (a resume compares it with the checklist as it is then).
     * `storedSha256`, when present, is the bundle as stored: with a secret written into a checklist redacted.
     */
    checklist: { id: string; title: string; sha256: string; storedSha256?: string };
    /** Where the checklist came from: a file path, or an id looked up in checklists/ and the defaults. */
    origin: { file: string; byId: boolean };
    params: Record<string, ParamValue>;
    environment: string | null;
    operator: string;
    host: string;
    pid: number;
    mode: 'interactive' | 'non-interactive';
    version: string;
    plan: PlanNode[];
    scopes: Record<string, Scope>;
    /** The recovery clock: its objective, and the moment it counts from and why (core/recovery.ts). */
    recovery?: RecoveryStart;
  };
  'session.resumed': {
    operator: string;
    host: string;
    pid: number;
    /** The checklist changed since the session began and the operator forced the resume. */
    forced?: { oldSha256: string; newSha256: string };
    plan?: PlanNode[];
    scopes?: Record<string, Scope>;
  };
  'session.paused': {
    reason: 'confirmation-required' | 'step-failed' | 'interrupted' | 'operator';
    message: string;
    hint?: string;
  };
  'session.finished': {
    outcome: Outcome;
    reason?: string;
    /** A recovery session's clock at its end, measured on the finishing process's monotonic clock (core/recovery.ts). */
    recoveredMs?: number;
  };
  'step.started': {
    attempt: number;
    description?: string;
    /**
     * The question asked before it runs (it was interrupted and may have had its effect): until it is answered (a
     * `step.confirmed`), the step waits for the operator rather than runs.
     */
    asks?: string;
  };
  'step.spawned': { pid: number; command: string; cwd: string; startTime?: number | null };
  'step.output': { stream: 'stdout' | 'stderr'; text: string };
  'step.confirmed': { by: string; via: 'flag' | 'prompt'; note?: string };
  'step.passed': {
    durationMs?: number;
    exitCode?: number;
    via?: 'probe' | 'confirmation' | 'command' | 'children';
    /** The step had nothing to check, and says why (no release schedule configured): it passed without proving anything. */
    nothingToCheck?: string;
    /** A release's notes step: the commits the notes describe (the lead time of `cockpit audit stats` starts at the first). */
    release?: ReleaseCommits;
  };
  'step.failed': {
    durationMs?: number;
    exitCode: number | null;
    signal?: string | null;
    timedOut?: boolean;
    reason: string;
  };
  'step.skipped': { reason: string; by: 'condition' | 'operator' };
  'step.interrupted': { reason: string; stoppedPid?: number };
  'step.probed': { result: 'done' | 'not-done' | 'unknown'; detail: string };
  'note.added': { text: string };
  /** One smoke check's result (src/steps/smoke.ts): the URL without credentials, and on failure a redacted excerpt of the body. */
  'smoke.check': {
    name: string;
    method: string;
    url: string;
    verdict: 'pass' | 'fail' | 'inconclusive';
    status: number | null;
    latencyMs: number | null;
    attempts: number;
    reason: string;
    excerpt?: string;
  };
  // ── deploys (the build, deploy, switch and rollback steps, src/steps/; in words: core/deploy/words.ts) ──
  /** What a build produced: an image (tag, digest) or an artifact (path, its sha256 as the cockpit computed it). */
  'deploy.built': {
    env: string;
    version: string;
    /** The build command as run (argv joined). */
    command: string;
    image?: string;
    digest?: string;
    artifact?: string;
    sha256?: string;
  };
  /** A version deployed, and where: the colour (null in-place), what was live before and at which version. */
  'deploy.deployed': {
    env: string;
    version: string;
    strategy: 'in-place' | 'blue-green';
    colour: DeployColour | null;
    liveBefore: DeployColour | null;
    versionBefore: string | null;
    /** `probe`: found done after an interruption (status said so), not deployed again. */
    via: 'script' | 'probe';
  };
  /** Traffic switched: from which colour to which, and until when the old one is kept for a switch back. */
  'deploy.switched': {
    env: string;
    from: DeployColour | null;
    to: DeployColour;
    version: string | null;
    /** `keepPrevious` of the environment (a duration as written), and the moment it ends (epoch ms). */
    keepPrevious: string | null;
    keepPreviousUntil: number | null;
    via: 'script' | 'probe';
  };
  /** What a rollback chose and why, and how it goes back (recorded before the script runs). */
  'deploy.rollback': {
    env: string;
    version: string;
    /** Where the version came from: the step's `version`, the audit log's deploy history, the previous release tag. */
    source: 'step' | 'history' | 'tag';
    why: string;
    how: 'switch-back' | 'redeploy';
    /** The colour it goes back to (null in-place). */
    colour: DeployColour | null;
    liveBefore: DeployColour | null;
  };
  // ── notifications (the `notify` step, src/steps/notify.ts; the requests in core/notify/delivery.ts) ──
  /**
   * About to send `message` to `channel`: recorded before the first request, so a crash after it leaves the delivery
   * "possibly delivered" (a resume asks before sending again). `endpoint` has the secrets masked.
   */
  'notify.sending': {
    channel: string;
    provider: 'slack' | 'webhook' | 'statuspage';
    message: string;
    endpoint: string;
    key: string;
    status?: 'under_maintenance' | 'degraded_performance' | 'operational';
    // ── the operator's "issue or delay" update (the `u` key, src/app/issue-update.ts), recorded with the operator as actor ──
    /** The text sent, as the operator confirmed it (an operator's update; a step's message the operator was shown or edited). */
    text?: string;
    /** The operator changed the rendered text before sending. */
    edited?: boolean;
    /**
     * A `notify` step's message the operator edited (shown before it was sent): who edited it. A resumed step sends
     * that text again, not the template's; the event's actor is who let it go (the operator, or the cockpit unattended).
     */
    editedBy?: string;
    /** The step the update is about (the failed step, the watch); the events themselves belong to no step. */
    about?: string | null;
  };
  /** A try failed with a transient answer (timeout, 429/420, 5xx): another follows after `waitMs`. */
  'notify.retrying': { channel: string; attempt: number; status: number | null; reason: string; waitMs: number };
  /** The provider accepted it: its HTTP status, its id for the message where it gives one, how many tries it took. */
  'notify.delivered': { channel: string; status: number; messageId: string | null; attempts: number; detail: string };
  /** It was not delivered: the provider's answer (neutralised, cut) or why no answer came. */
  'notify.failed': {
    channel: string;
    status: number | null;
    attempts: number;
    reason: string;
    /** The last try got no answer (a timeout, a reset): the message may have been posted; a resume asks before sending again. */
    uncertain?: boolean;
    /** The step says `onFailure: warn` (a rollback's notice): the failure is recorded and shown (⚠), and the step passes. */
    onFailure?: 'warn';
  };
  // ── publishing a release (the `publish` step, src/steps/publish.ts) ──
  /**
   * The configured `release.publish` command published the release's notes: the command as run (argv joined), the
   * notes file it was given, and where it published: the first http(s) URL it printed, null when it printed none.
   */
  'release.published': { version: string; command: string; notesFile: string; url: string | null };
  // ── approvals (the `approve` step, src/steps/approve.ts; decisions appended by `cockpit approve`, src/app/approve.ts) ──
  /** The step asks a role for approval: who may give it, who may not (the operator), until when, for what. */
  'approval.requested': {
    role: string;
    approvers: string[];
    /** The operator's identities (login or COCKPIT_OPERATOR, git e-mail): none of them may approve. */
    operators: string[];
    version: string | null;
    checklistSha256: string;
    deadline: number;
    timeoutMs: number;
    signing: 'ssh' | null;
  };
  /** An approver's decision, appended by their own process; `request` is the seq of the request it answers. */
  'approval.granted': ApprovalDecisionData;
  'approval.rejected': ApprovalDecisionData;
  /** The step's verdict on the request: what counted (or that it expired). */
  'approval.resolved': {
    request: number;
    outcome: 'approved' | 'rejected' | 'expired';
    decision?: number;
    by?: string;
    proof?: 'ssh' | 'claimed';
    detail: string;
  };
  /** A decision the step did not count, and why (not in the role, the operator, unsigned, a bad signature …). */
  'approval.ignored': { request: number; decision: number; by: string; reason: string };
  // ── the post-deploy watch (run by core/watch/run.ts from the `watch` step, src/steps/watch.ts; folded into SessionState.watch by core/watch/panel.ts) ──
  'watch.started': {
    /** The deploy time the hour counts from (epoch ms), and when the watch ends. */
    since: number;
    until: number;
    intervalMs: number;
    prometheus: string;
    rules: WatchRuleInfo[];
    /** Started again after an interruption: the same hour continues. */
    resumed?: boolean;
  };
  /** What the watch found wrong before its first sample (a job label no target has, a counter that does not exist). */
  'watch.preflight': { warnings: string[] };
  'watch.baseline': { rule: string; query: string; evalTime: number; raw: string | null; value: number | null; error?: string };
  'watch.sample': {
    rule: string;
    /** Evaluation time (epoch ms). */
    t: number;
    query: string;
    raw: string | null;
    value: number | null;
    baseline: number | null;
    traffic?: number | null;
    verdict: WatchVerdict;
    reason: string;
    warnings?: string[];
  };
  'watch.breach': { rule: string; t: number; reason: string; advice: 'alert' | 'rollback'; policy: string };
  'watch.recovery': { rule: string; t: number; reason: string };
  'watch.connection': { t: number; state: 'up' | 'down'; error?: string };
  'watch.finished': { verdict: 'pass' | 'fail' | 'inconclusive'; text: string; advice: string[] };
}

/** What a release recorded about its commits (absent from releases recorded before the cockpit recorded it). */
export interface ReleaseCommits {
  version: string;
  /** How many commits the notes describe (the release's own bookkeeping commits left out). */
  commits: number;
  /** The oldest and newest author dates among them (epoch ms); null when there were none. */
  firstCommitAt: number | null;
  lastCommitAt: number | null;
  /** The release tag they follow, or null for a first release. */
  previousTag: string | null;
}

/**
 * What an approver decided, as they signed it (core/approval.ts approvalPayload): the subject (session, step, request,
 * version, checklist sha256), who, in which role, when, and the note or the rejection's reason. `identity` says how
 * the address is known: `claimed` (git's user.email, nothing proves it) or `ssh` (the signature verifies for it).
 */
export interface ApprovalDecisionData {
  session: string;
  step: string;
  request: number;
  version: string | null;
  checklistSha256: string;
  approver: string;
  role: string;
  at: string;
  note?: string;
  identity: 'claimed' | 'ssh';
  /** Where the address came from (`git config user.email`). */
  source: string;
  /** The armoured `ssh-keygen -Y sign -n cockpit-approval` signature of the payload. */
  signature?: string;
}

/** A colour of a blue-green environment. */
export type DeployColour = 'blue' | 'green';

/** The deploy steps' events. */
export type DeployEventType = Extract<EventType, `deploy.${string}`>;

export type WatchVerdict = 'pass' | 'fail' | 'inconclusive' | 'error';

/** A watch rule as the panel shows it (from the config, recorded when the watch starts). */
export interface WatchRuleInfo {
  id: string;
  title: string;
  unit: string;
  /** The policy's words, e.g. ">20% increase in response time". */
  policy: string;
  /** The threshold in words, e.g. "+1 point over baseline", "> 80". */
  threshold: string;
  severity: 'critical' | 'warning';
  advice: 'alert' | 'rollback';
}

export type EventType = keyof EventDataMap;

/** An event of one known type, as a caller hands it to the store (the store numbers, dates and hashes it). */
export interface NewEventOf<T extends EventType> {
  type: T;
  stepId?: string | null;
  data: EventDataMap[T];
  /** Who caused it; defaults to the session's operator. */
  actor?: string;
  /** Epoch ms; defaults to the injected clock. */
  time?: number;
}

/** An event of one known type as the log holds it, without its hashes (what is hashed). */
export interface AuditEventOf<T extends EventType> {
  sessionId: string;
  seq: number;
  time: number;
  type: T;
  stepId: string | null;
  actor: string;
  data: EventDataMap[T];
}

/** An event of one known type as the log holds it. */
export interface StoredEventOf<T extends EventType> extends AuditEventOf<T> {
  prevHash: string;
  hash: string;
}

/*
 * The forms used everywhere: a union with one member per event type (or per type in T), so that
 * `switch (e.type)` / `if (e.type === …)` narrows `e.data` without a cast. `NewEvent<'session.started'>` is the
 * one member; a switch that must handle every type ends in `default: exhaustive(e)` (core/exhaustive.ts).
 */
export type NewEvent<T extends EventType = EventType> = { [K in T]: NewEventOf<K> }[T];
export type AuditEvent<T extends EventType = EventType> = { [K in T]: AuditEventOf<K> }[T];
export type StoredEvent<T extends EventType = EventType> = { [K in T]: StoredEventOf<K> }[T];

/** What a step or the watch records: an event's type and data (the session adds the step, the actor and the time). */
export type EventBody<T extends EventType = EventType> = { [K in T]: Pick<NewEventOf<K>, 'type' | 'data'> }[T];

/** The post-deploy watch's events. */
export type WatchEventType = Extract<EventType, `watch.${string}`>;

/** The event every session begins with: `reduce` refuses a session whose first event is anything else. */
export function sessionStarted<E extends AuditEvent>(events: readonly E[]): Extract<E, { type: 'session.started' }> {
  const first = events.at(0);
  if (!first || !isStart(first)) throw new Error(`the session's first event is ${first?.type ?? 'missing'}, not session.started`);
  return first;
}

function isStart<E extends AuditEvent>(e: E): e is Extract<E, { type: 'session.started' }> {
  return e.type === 'session.started';
}
