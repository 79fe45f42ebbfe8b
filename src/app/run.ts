/**
 * Running a checklist: prepare (checklist, parameters, plan, `--yes` names), describe a dry run, start, resume. The
 * commands and the screens choose how the session is driven (a `SessionDrive`: the full-screen cockpit, the line,
 * JSON lines) and call these; what a session is opened with is decided here once.
 */
import type { ChecklistBundle } from '../core/checklist/bundle.js';
import type { ParamDef, ParamValue } from '../core/checklist/types.js';
import type { AuditEvent, PlanNode, Scope } from '../core/events.js';
import { evaluateConditions, interpolate, resolveParams, templateRefs } from '../core/params.js';
import { buildPlan } from '../core/plan.js';
import { adviceBreach, objectiveFor, type RecoveryBreach } from '../core/recovery.js';
import type { AuditStore } from '../audit/store.js';
import type { LiveDeps } from '../engine/live.js';
import { resumeSession, startSession, type EngineDeps, type SessionRunner } from '../engine/session.js';
import { stepKindMap } from '../steps/index.js';
import type { DescribeSettings } from '../steps/types.js';
import { notifySettings } from '../core/notify/config.js';
import { refName } from '../steps/git-common.js';
import type { AppContext, Origin } from './context.js';
import { sessionDeps } from './deps.js';
import { RunRefused, UsageError } from './errors.js';
import { parseYes, unknownYesNames, type YesList } from './yes.js';

export interface RunOptions {
  /** A checklist id or a path to its YAML file. */
  checklist: string;
  /** The parameters as given (`-p key=value`, a form, a version chosen by `cockpit release`). */
  params: Record<string, string>;
  /** `--yes`: steps confirmed in advance (`all`, or ids/paths, comma-separated). */
  yes?: string[];
  /**
   * `--recovery-since <session>` (and `R` on a watch): the session whose watch advised this rollback; its breach,
   * read from the audit log, starts the recovery clock (core/recovery.ts).
   */
  recoverySince?: string;
}

/** A run checked and planned, nothing recorded yet. */
export interface PreparedRun {
  bundle: ChecklistBundle;
  origin: Origin;
  params: Record<string, ParamValue>;
  plan: PlanNode[];
  scopes: Record<string, Scope>;
  yes: YesList;
  /** The secret parameters' values: kept in memory for the resumes of a live session, never stored. */
  secrets: Record<string, string>;
  /** The configuration a description reads (the version files a bump writes). */
  settings: DescribeSettings;
  /** The session (id or prefix) whose watch breach starts the recovery clock. */
  recoverySince?: string;
}

/** Load the checklist, resolve its parameters, build the plan, check the `--yes` names: refused with a UsageError. */
export function prepareRun(ctx: AppContext, opts: RunOptions): PreparedRun {
  const { bundle, origin } = ctx.workspace().mustLoad(opts.checklist);
  const root = bundle.root.checklist;
  const resolved = resolveParams(root.params, opts.params);
  if (resolved.errors.length) throw new RunRefused(`${root.id}: ${resolved.errors.join('\n  ')}`, resolved.errors);
  const planned = buildPlan(bundle, resolved.values);
  if (planned.errors.length) throw new RunRefused(planned.errors.join('\n'), planned.errors);
  const badRefs = refusedRefNames(planned.plan, planned.scopes);
  if (badRefs.length) throw new RunRefused(badRefs.join('\n'), badRefs);
  if (opts.recoverySince && !objectiveFor(root.objective, resolved.values))
    throw new UsageError(`--recovery-since: '${root.id}' has no recovery objective (objective: in the checklist) to time`);
  const yes = parseYes(opts.yes);
  const unknown = unknownYesNames(yes, planned.plan);
  if (unknown.length)
    throw new UsageError(
      `--yes names no step of '${root.id}': ${unknown.join(', ')} (steps: ${planned.plan.map((p) => p.path).join(', ')})`,
    );
  return {
    bundle,
    origin,
    params: resolved.values,
    plan: planned.plan,
    scopes: planned.scopes,
    yes,
    secrets: secretParams(root.params, resolved.values),
    settings: {
      release: ctx.workspace().config.release ?? {},
      ...(ctx.workspace().config.deploy ? { deploy: ctx.workspace().config.deploy } : {}),
      ...(ctx.workspace().command ? { command: (args) => ctx.workspace().command!(args) } : {}),
      ...(ctx.workspace().config.verify ? { verify: ctx.workspace().config.verify } : {}),
      notify: notifySettings(ctx.workspace().config.notify, ctx.identity().operator),
    },
    ...(opts.recoverySince ? { recoverySince: opts.recoverySince } : {}),
  };
}

/**
 * Branch and tag names that parameters build (`hotfix/v${version}-${issue}`), checked with git's rules before anything
 * runs: one sentence per name git would refuse, naming the parameters it was built from and the step.
 */
export function refusedRefNames(plan: PlanNode[], scopes: Record<string, Scope>): string[] {
  const problems: string[] = [];
  const told = new Set<string>(); // a bad name is said once, at its first step (the branch, not each merge and push of it)
  for (const node of plan) {
    const refs = stepKindMap.get(node.kind)?.refs;
    if (!refs) continue;
    const params = scopes[node.scope]?.params ?? {};
    if (!evaluateConditions(node.when, node.unless, params).pass) continue;
    for (const [field, what] of Object.entries(refs)) {
      const value = node.spec[field];
      for (const template of Array.isArray(value) ? value : [value]) {
        if (typeof template !== 'string') continue;
        const used = templateRefs(template).filter((p) => Object.hasOwn(params, p));
        if (!used.length) continue; // as written in the checklist: its own checks, and the step's, cover it
        const r = refName(template, params, what);
        if (r.ok || told.has(interpolate(template, params).trim())) continue;
        told.add(interpolate(template, params).trim());
        const names = used.map((p) => `'${p}' (${JSON.stringify(String(params[p]))})`).join(' and ');
        problems.push(`parameter${used.length > 1 ? 's' : ''} ${names} of step '${node.path}': ${r.reason}`);
      }
    }
  }
  return problems;
}

/** A dry run: the lines that say what each step would do, or why it would be skipped. Nothing runs or is recorded. */
export function describeDryRun(run: PreparedRun): string[] {
  const root = run.bundle.root.checklist;
  const lines = [`${root.title} [${root.id}] — dry run, nothing is executed or recorded`];
  for (const node of run.plan) {
    const params = run.scopes[node.scope]?.params ?? {};
    const c = evaluateConditions(node.when, node.unless, params);
    const kind = stepKindMap.get(node.kind);
    const what = kind ? kind.describe(node, params, run.settings) : `unknown kind ${node.kind}`;
    // A description of several lines (a notify step's messages) keeps its lines under its step.
    const said = (c.pass ? what : `skipped (${c.reason})`).replace(/\n/g, `\n${'  '.repeat(node.depth)}  `);
    lines.push(`${'  '.repeat(node.depth)}${c.pass ? '•' : '↷'} ${node.path}: ${node.title} — ${said}`);
  }
  return lines;
}

/**
 * How a session is driven. It gets the engine's deps for this session (less who answers, the stop signal and where
 * events go: the driver's), `open`, which creates or resumes the session with the deps the driver completes, and
 * the secret parameters (a live session resumes itself with them). It returns what the caller wants back: an exit
 * code, the screen's controls.
 */
export type SessionDrive<R> = (
  deps: LiveDeps,
  open: (engine: EngineDeps) => Promise<SessionRunner>,
  secrets: Record<string, string>,
) => Promise<R>;

export interface StartOptions {
  mode: 'interactive' | 'non-interactive';
}

/** Create the session of a prepared run (durable before anything runs) and hand it to its driver. */
export async function startRun<R>(ctx: AppContext, run: PreparedRun, opts: StartOptions, drive: SessionDrive<R>): Promise<R> {
  const store = await ctx.workspace().openStore();
  const recoveryFrom = run.recoverySince ? await watchBreach(ctx, store, run.recoverySince) : undefined;
  return drive(
    sessionDeps(ctx, store, run.yes),
    (engine) =>
      startSession(engine, {
        bundle: run.bundle,
        params: run.params,
        origin: run.origin,
        mode: opts.mode,
        ...(recoveryFrom ? { recoveryFrom } : {}),
      }),
    run.secrets,
  );
}

/** The breach that advised a rollback in this session's watch, read from the audit log (null: none). */
async function watchBreach(
  ctx: AppContext,
  store: AuditStore,
  ref: string,
): Promise<{ watchSession: string; breach: RecoveryBreach | null }> {
  const r = await store.resolveSessionId(ref, ctx.workspace().command?.(['audit', 'list']));
  if ('error' in r) throw new UsageError(`--recovery-since: ${r.error}`);
  const seen: AuditEvent[] = []; // only the watch's breaches and recoveries are kept of a session of any size
  for await (const e of store.streamEvents(r.id)) if (e.type === 'watch.breach' || e.type === 'watch.recovery') seen.push(e);
  return { watchSession: r.id, breach: adviceBreach(r.id, seen) };
}

export interface ResumeOptions {
  /** A session id or a unique prefix; none: the newest session that has not finished. */
  session?: string;
  /** Continue although the checklist changed since the session began (recorded). */
  force?: boolean;
  /** Skip this step first (`--skip`), with the reason (`--reason`, required with it). */
  skip?: string;
  reason?: string;
  /** Secret parameters given again (the log never held them). */
  params?: Record<string, string>;
  yes?: string[];
}

/** Resume a stopped session and hand it to its driver. */
export async function resumeRun<R>(ctx: AppContext, opts: ResumeOptions, drive: SessionDrive<R>): Promise<R> {
  const store = await ctx.workspace().openStore();
  let sessionId: string;
  if (opts.session) {
    const r = await store.resolveSessionId(opts.session, ctx.workspace().command?.(['audit', 'list']));
    if ('error' in r) throw new UsageError(r.error);
    sessionId = r.id;
  } else {
    const open = (await store.listSessions(200)).find((s) => !s.outcome);
    if (!open) throw new UsageError('no session to resume (every session in the audit log has finished)');
    sessionId = open.id;
  }
  if (opts.skip && !opts.reason) throw new UsageError('--skip needs --reason "why"');
  const yes = parseYes(opts.yes);
  const deps = sessionDeps(ctx, store, yes);
  const params = { ...(opts.params ?? {}) };
  return drive(
    deps,
    (engine) =>
      resumeSession(engine, {
        sessionId,
        current: deps.reload,
        force: !!opts.force,
        skip: opts.skip ? { step: opts.skip, reason: opts.reason ?? '' } : undefined,
        params,
        check: (plan) => {
          const unknown = unknownYesNames(yes, plan);
          if (unknown.length) throw new UsageError(`--yes names no step of this session: ${unknown.join(', ')}`);
        },
      }),
    params,
  );
}

/** The values of a checklist's secret parameters: kept in memory for resumes, never stored. */
export function secretParams(defs: Record<string, ParamDef>, values: Record<string, ParamValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([k]) => defs[k]?.secret)
      .map(([k, v]) => [k, String(v)]),
  );
}
