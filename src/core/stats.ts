/**
 * The four keys (deployment frequency, lead time for changes, change failure rate, time to restore) from the audit
 * log alone: events in, figures out, each figure with the sessions it came from and the definition it used.
 *
 * Pure. A reader folds each session's events with `SessionFold` (one session at a time, streamed: only the event
 * types in STATS_EVENT_TYPES matter, the rest may be skipped unparsed) into small `SessionFacts`, then
 * `computeStats` puts the facts of all sessions together. `statsFromEvents` does both for events held in memory.
 *
 * What counts (docs: README "Delivery statistics"):
 *  - a deploy is a scope of checklist `deploy-production` (production) or `deploy-staging` (staging), whether it is
 *    the session's root or included (a hotfix includes deploy-production). It reached the environment when its
 *    switch step passed (kind `switch`, id `switch` or `switch-traffic`), else when its last deploy step passed
 *    (kind `deploy`, id `deploy` or `deploy-…`), else when it finished successfully; each deploy says which.
 *  - a rollback is a scope of `rollback-code` or `rollback-db`, a hotfix one of `hotfix`. Each is laid at the door
 *    of the newest deploy of its environment (from another session) that came before it: that deploy failed.
 *    A deploy attempt that never reached the environment but was followed by a rollback or hotfix counts as one
 *    failed deploy (at its first failed step); however many rollbacks and hotfixes follow a deploy, it fails once.
 *  - lead time: from the first commit of the release (the author date of the oldest commit the release notes
 *    describe, recorded by the `notes` step since this version) to the deploy reaching production.
 *  - time to restore, per failed deploy: from the first breach (`watch.breach`) or failed step after it, else from
 *    the start of the rollback or hotfix, to the first recovery: a rollback that finished successfully, or a
 *    hotfix's own deploy reaching the environment.
 */
import type { ParamValue } from './checklist/types.js';
import type { AuditEvent, Outcome, PlanNode, Scope } from './events.js';
import { interpolate } from './params.js';
import type { StableVersion } from './deploy/history.js';

/** Checklists whose scope is a deploy, and the environment they deploy to. */
export const DEPLOY_CHECKLISTS: Readonly<Record<string, string>> = { 'deploy-production': 'production', 'deploy-staging': 'staging' };
const ROLLBACK_CHECKLISTS = new Set(['rollback-code', 'rollback-db']);
const HOTFIX_CHECKLISTS = new Set(['hotfix']);

/** The event types the stats read: a reader may skip every other row without parsing it. */
export const STATS_EVENT_TYPES: ReadonlySet<string> = new Set([
  'session.started',
  'session.resumed',
  'session.finished',
  'step.started',
  'step.passed',
  'step.failed',
  'watch.breach',
  'watch.finished',
]);

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** How a deploy's time was found: the one it is counted at. */
export type DeployTimeSource = 'switch' | 'deploy-step' | 'finished' | 'failed-step' | 'started';

export const DEPLOY_TIME_WORDS: Record<DeployTimeSource, string> = {
  switch: 'its switch step passed',
  'deploy-step': 'its last deploy step passed (no switch step)',
  finished: 'it finished successfully (no switch or deploy step)',
  'failed-step': 'its first failed step (it never reached the environment, then was rolled back)',
  started: 'it started (it never reached the environment, then was rolled back)',
};

interface StepMark {
  time: number;
  step: string;
}

type Role = 'deploy' | 'rollback' | 'hotfix';

/** A deploy, rollback or hotfix inside a session: a scope of the plan (the root, '', or an include's path). */
export interface ScopeFacts {
  scope: string;
  role: Role;
  checklist: string;
  environment: string;
  version: string | null;
  /** The first step of the scope that started. */
  firstAt?: number;
  switched?: StepMark;
  deployed?: StepMark;
  /** When the scope finished successfully (its include step passed, or the session succeeded for the root). */
  doneAt?: number;
  /** Steps of the scope that failed, in order (each a first failure of its step). */
  failures: Array<StepMark & { reason: string }>;
  /** The last verdict of a post-deploy watch inside the scope (`watch.finished`), when one finished. */
  watch?: StepMark & { verdict: 'pass' | 'fail' | 'inconclusive' };
}

export interface BreachFacts {
  time: number;
  environment: string;
  rule: string;
  step: string;
}

/** What a release recorded about its commits (the notes step's `release` field). */
export interface ReleaseFacts {
  time: number;
  version: string;
  firstCommitAt: number | null;
  commits: number;
}

/** One session, reduced to what the stats need. */
export interface SessionFacts {
  id: string;
  checklist: string;
  /** Who started it (session.started). */
  operator: string;
  startedAt: number;
  outcome?: Outcome;
  endedAt?: number;
  scopes: ScopeFacts[];
  breaches: BreachFacts[];
  releases: ReleaseFacts[];
}

function envOf(params: Record<string, ParamValue> | undefined): string | null {
  const e = params?.environment;
  return typeof e === 'string' && e ? e : null;
}

function isSwitch(n: PlanNode): boolean {
  return n.kind === 'switch' || n.id === 'switch' || n.id === 'switch-traffic';
}

function isDeployStep(n: PlanNode): boolean {
  return n.kind === 'deploy' || (n.kind !== 'checklist' && (n.id === 'deploy' || n.id.startsWith('deploy-')));
}

function within(scope: string, path: string): boolean {
  return scope === '' || path === scope || path.startsWith(`${scope}/`);
}

/** One session's events folded into its facts, one event at a time (a session's output is never held). */
export class SessionFold {
  private nodes = new Map<string, PlanNode>();
  private scopeMap: Record<string, Scope> = {};
  private rootEnv: string | null = null;
  private facts: SessionFacts;
  /** The innermost tracked scope of each step path (cached). */
  private owner = new Map<string, ScopeFacts | null>();

  constructor(first: AuditEvent<'session.started'>) {
    const d = first.data;
    this.rootEnv = d.environment ?? envOf(d.params);
    this.facts = {
      id: first.sessionId,
      checklist: d.checklist.id,
      operator: d.operator,
      startedAt: first.time,
      scopes: [],
      breaches: [],
      releases: [],
    };
    this.setPlan(d.plan, d.scopes);
  }

  private setPlan(plan: PlanNode[], scopes: Record<string, Scope>): void {
    this.nodes = new Map(plan.map((n) => [n.path, n]));
    this.scopeMap = scopes;
    this.owner.clear();
    const known = new Map(this.facts.scopes.map((s) => [s.scope, s]));
    for (const [prefix, sc] of Object.entries(scopes)) {
      if (known.has(prefix)) continue;
      const role: Role | null =
        sc.checklist in DEPLOY_CHECKLISTS
          ? 'deploy'
          : ROLLBACK_CHECKLISTS.has(sc.checklist)
            ? 'rollback'
            : HOTFIX_CHECKLISTS.has(sc.checklist)
              ? 'hotfix'
              : null;
      if (!role) continue;
      const environment = role === 'deploy' ? DEPLOY_CHECKLISTS[sc.checklist] : (envOf(sc.params) ?? this.rootEnv ?? 'production');
      const version = typeof sc.params.version === 'string' ? sc.params.version : null;
      this.facts.scopes.push({ scope: prefix, role, checklist: sc.checklist, environment, version, failures: [] });
    }
    // A checklist of another name that deploys with a `deploy` step naming its environment (`env:`) is a deploy too.
    for (const n of plan) {
      if (n.kind !== 'deploy' || typeof n.spec.env !== 'string') continue;
      if (this.facts.scopes.some((s) => s.role === 'deploy' && within(s.scope, n.path))) continue;
      const params = scopes[n.scope]?.params ?? {};
      const environment = interpolate(n.spec.env, params).trim();
      if (!environment) continue;
      const written = typeof n.spec.version === 'string' ? interpolate(n.spec.version, params).trim() : '';
      const version = written || (typeof params.version === 'string' ? params.version : null);
      const checklist = scopes[n.scope]?.checklist ?? n.checklist;
      this.facts.scopes.push({ scope: n.scope, role: 'deploy', checklist, environment, version, failures: [] });
    }
  }

  /** Whether the session matters to the stats at all (deploys, rollbacks, hotfixes, watches, release notes). */
  get relevant(): boolean {
    return this.facts.scopes.length > 0 || this.recordsReleases || [...this.nodes.values()].some((n) => n.kind === 'watch');
  }

  /** Whether the session deploys or rolls back anywhere (the deploy history reads only those). */
  get deploysOrRollsBack(): boolean {
    return this.facts.scopes.some((s) => s.role === 'deploy' || s.role === 'rollback');
  }

  /** Whether the session may record a release's commits (it has a notes step). */
  get recordsReleases(): boolean {
    return [...this.nodes.values()].some((n) => n.kind === 'notes');
  }

  private scopesOf(path: string): ScopeFacts[] {
    return this.facts.scopes.filter((s) => within(s.scope, path));
  }

  /** The innermost deploy scope around a step (for a watch inside a deploy). */
  private deployAround(path: string): ScopeFacts | null {
    let v = this.owner.get(path);
    if (v === undefined) {
      v = null;
      for (const s of this.facts.scopes) if (s.role === 'deploy' && within(s.scope, path) && (!v || s.scope.length > v.scope.length)) v = s;
      this.owner.set(path, v);
    }
    return v;
  }

  add(e: AuditEvent): void {
    switch (e.type) {
      case 'session.resumed':
        if (e.data.plan) this.setPlan(e.data.plan, e.data.scopes ?? this.scopeMap);
        return;
      case 'session.finished':
        this.facts.outcome = e.data.outcome;
        this.facts.endedAt = e.time;
        if (e.data.outcome === 'succeeded') for (const s of this.facts.scopes) if (s.scope === '') s.doneAt ??= e.time;
        return;
      case 'step.started': {
        if (e.stepId == null) return;
        for (const s of this.scopesOf(e.stepId)) s.firstAt ??= e.time;
        return;
      }
      case 'step.passed': {
        const path = e.stepId;
        if (path == null) return;
        const node = this.nodes.get(path);
        if (e.data.release) {
          const r = e.data.release;
          this.facts.releases.push({ time: e.time, version: r.version, firstCommitAt: r.firstCommitAt, commits: r.commits });
        }
        for (const s of this.facts.scopes) {
          // An include step that passed: the scope it includes is done.
          if (s.scope !== '' && s.scope === path) s.doneAt ??= e.time;
          if (!node || !within(s.scope, path) || s.scope === path) continue;
          if (isSwitch(node)) s.switched = { time: e.time, step: path };
          else if (isDeployStep(node)) s.deployed = { time: e.time, step: path };
        }
        return;
      }
      case 'step.failed': {
        const path = e.stepId;
        if (path == null) return;
        for (const s of this.scopesOf(path)) {
          if (s.scope === path) continue; // the include step fails with its child: the child is the failure
          if (!s.failures.some((f) => f.step === path)) s.failures.push({ time: e.time, step: path, reason: e.data.reason });
        }
        return;
      }
      case 'watch.breach': {
        const path = e.stepId ?? '';
        const node = this.nodes.get(path);
        const env =
          envOf(node ? this.scopeMap[node.scope]?.params : undefined) ??
          this.deployAround(path)?.environment ??
          this.rootEnv ??
          'production';
        this.facts.breaches.push({ time: e.time, environment: env, rule: e.data.rule, step: path });
        return;
      }
      case 'watch.finished': {
        const path = e.stepId;
        if (path == null) return;
        for (const s of this.scopesOf(path)) if (s.role === 'deploy') s.watch = { time: e.time, step: path, verdict: e.data.verdict };
        return;
      }
      default:
        return;
    }
  }

  result(): SessionFacts {
    return this.facts;
  }
}

// ── putting the sessions together ──────────────────────────────────────────────────────────────────────────────

/** A deploy as counted. */
export interface DeployItem {
  session: string;
  scope: string;
  version: string | null;
  at: number;
  /** How `at` was found. */
  timeFrom: DeployTimeSource;
  /** The step whose pass (or failure) gave the time, when one did. */
  step?: string;
}

export interface LeadTimeItem {
  session: string;
  version: string;
  firstCommitAt: number;
  deployedAt: number;
  ms: number;
  /** The release session that recorded the first commit. */
  releaseSession: string;
}

export interface FailureItem {
  deploy: DeployItem;
  /** The rollbacks and hotfixes that followed it (before the next deploy). */
  followedBy: Array<{ session: string; kind: 'rollback' | 'hotfix'; startedAt: number }>;
}

export type RestoreStart = 'breach' | 'failed-step' | 'rollback-started' | 'hotfix-started';
export type RestoreEnd = 'rollback-finished' | 'hotfix-deployed';

export interface RestoreItem {
  deploy: DeployItem;
  from: { kind: RestoreStart; at: number; session: string; detail: string };
  to: { kind: RestoreEnd; at: number; session: string };
  ms: number;
}

export interface EnvironmentStats {
  environment: string;
  /**
   * The last stable version over the whole log (not the window), as the rollback step finds it
   * (engine/deploy-history.ts `lastStable`); null when the log has none; absent when not asked for.
   */
  lastStable?: StableVersion | null;
  deploys: {
    count: number;
    perWeek: number;
    items: DeployItem[];
    sessions: string[];
    /** Deploy attempts in the window that never reached the environment and were not rolled back (stopped, failed, running). */
    notReached: string[];
  };
  leadTime: {
    medianMs: number | null;
    n: number;
    items: LeadTimeItem[];
    sessions: string[];
    /** Deploys with no recorded first commit for their version (a hotfix, or a release recorded before this version). */
    missing: Array<{ session: string; version: string | null }>;
  };
  changeFailure: { failed: number; of: number; rate: number | null; items: FailureItem[]; sessions: string[] };
  restore: {
    medianMs: number | null;
    n: number;
    items: RestoreItem[];
    sessions: string[];
    /** Failed deploys not recovered (yet). */
    open: Array<{ deploy: DeployItem; since: number }>;
  };
}

export interface Stats {
  since: number;
  now: number;
  weeks: number;
  environments: EnvironmentStats[];
}

export interface StatsOptions {
  since: number;
  now: number;
  /** Only this environment (default: production, and every other one that has a deploy). */
  environment?: string;
}

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

interface Attempt {
  session: SessionFacts;
  scope: ScopeFacts;
  /** Where it stands in the order of attempts: when it reached the environment, else when it failed or started. */
  order: number;
  reached: DeployItem | null;
}

interface Marker {
  session: SessionFacts;
  scope: ScopeFacts;
  kind: 'rollback' | 'hotfix';
  startedAt: number;
  recovered: { at: number; kind: RestoreEnd } | null;
}

/** When a deploy scope reached its environment (its switch, else its deploy step, else its successful end), or null. */
export function reachedAt(session: SessionFacts, s: ScopeFacts): DeployItem | null {
  const base = { session: session.id, scope: s.scope, version: s.version };
  if (s.switched) return { ...base, at: s.switched.time, timeFrom: 'switch', step: s.switched.step };
  if (s.deployed) return { ...base, at: s.deployed.time, timeFrom: 'deploy-step', step: s.deployed.step };
  if (s.doneAt !== undefined) return { ...base, at: s.doneAt, timeFrom: 'finished' };
  return null;
}

function uniq(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

/** The figures of one environment (pure: the sessions' facts in, the figures out). */
function environmentStats(env: string, sessions: SessionFacts[], o: StatsOptions, weeks: number): EnvironmentStats {
  const attempts: Attempt[] = [];
  const markers: Marker[] = [];
  for (const session of sessions) {
    for (const s of session.scopes) {
      if (s.environment !== env) continue;
      if (s.role === 'deploy') {
        const reached = reachedAt(session, s);
        attempts.push({ session, scope: s, reached, order: reached?.at ?? s.failures[0]?.time ?? s.firstAt ?? session.startedAt });
      }
    }
  }
  for (const session of sessions) {
    for (const s of session.scopes) {
      if (s.environment !== env || s.role === 'deploy') continue;
      let recovered: Marker['recovered'] = null;
      if (s.role === 'rollback' && s.doneAt !== undefined) recovered = { at: s.doneAt, kind: 'rollback-finished' };
      if (s.role === 'hotfix') {
        // A hotfix recovers when its own deploy reaches the environment.
        const own = attempts.find((a) => a.session === session && a.reached && within(s.scope, a.scope.scope));
        if (own?.reached) recovered = { at: own.reached.at, kind: 'hotfix-deployed' };
      }
      // Begun when the session began (a root rollback), or when its first step started (an included one).
      const startedAt = s.scope === '' ? session.startedAt : (s.firstAt ?? session.startedAt);
      markers.push({ session, scope: s, kind: s.role, startedAt, recovered });
    }
  }
  attempts.sort((a, b) => a.order - b.order || a.session.id.localeCompare(b.session.id));

  // Each rollback or hotfix follows the newest deploy attempt of another session before it.
  const followers = new Map<Attempt, Marker[]>();
  for (const m of markers) {
    let target: Attempt | null = null;
    for (const a of attempts) if (a.session !== m.session && a.order < m.startedAt) target = a;
    if (target) followers.set(target, [...(followers.get(target) ?? []), m]);
  }

  const counted: Array<{ attempt: Attempt; item: DeployItem }> = [];
  const notReached: string[] = [];
  for (const a of attempts) {
    let item = a.reached;
    if (!item && followers.has(a)) {
      const f = a.scope.failures[0];
      item = f
        ? { session: a.session.id, scope: a.scope.scope, version: a.scope.version, at: f.time, timeFrom: 'failed-step', step: f.step }
        : { session: a.session.id, scope: a.scope.scope, version: a.scope.version, at: a.order, timeFrom: 'started' };
    }
    if (!item) {
      if (a.order >= o.since && a.order <= o.now) notReached.push(a.session.id);
      continue;
    }
    if (item.at >= o.since && item.at <= o.now) counted.push({ attempt: a, item });
  }
  const items = counted.map((c) => c.item);

  // Lead time: the newest release record of the version before the deploy.
  const records = sessions.flatMap((s) => s.releases.map((r) => ({ ...r, session: s.id })));
  const lead: LeadTimeItem[] = [];
  const missing: EnvironmentStats['leadTime']['missing'] = [];
  for (const { item } of counted) {
    if (item.timeFrom === 'failed-step' || item.timeFrom === 'started') continue;
    let rec: (typeof records)[number] | null = null;
    for (const r of records)
      if (r.version === item.version && r.firstCommitAt !== null && r.time <= item.at && (!rec || r.time > rec.time)) rec = r;
    if (!rec || rec.firstCommitAt === null || item.version === null) {
      missing.push({ session: item.session, version: item.version });
      continue;
    }
    lead.push({
      session: item.session,
      version: item.version,
      firstCommitAt: rec.firstCommitAt,
      deployedAt: item.at,
      ms: item.at - rec.firstCommitAt,
      releaseSession: rec.session,
    });
  }

  // Change failures, and the time to restore each.
  const failures: FailureItem[] = [];
  const restores: RestoreItem[] = [];
  const open: EnvironmentStats['restore']['open'] = [];
  const breaches = sessions.flatMap((s) => s.breaches.filter((b) => b.environment === env).map((b) => ({ ...b, session: s.id })));
  counted.forEach(({ attempt, item }, i) => {
    const ms = followers.get(attempt);
    if (!ms?.length) return;
    failures.push({ deploy: item, followedBy: ms.map((m) => ({ session: m.session.id, kind: m.kind, startedAt: m.startedAt })) });
    const next = counted[i + 1]?.item.at ?? Infinity;
    const ends = ms.filter((m) => m.recovered).map((m) => ({ ...m.recovered!, session: m.session.id }));
    ends.sort((a, b) => a.at - b.at);
    const starts: RestoreItem['from'][] = [];
    for (const b of breaches)
      if (b.time >= item.at && b.time < next)
        starts.push({ kind: 'breach', at: b.time, session: b.session, detail: `${b.rule} (${b.step})` });
    for (const f of attempt.scope.failures)
      if (f.time >= item.at) starts.push({ kind: 'failed-step', at: f.time, session: attempt.session.id, detail: f.step });
    for (const m of ms)
      starts.push({
        kind: m.kind === 'rollback' ? 'rollback-started' : 'hotfix-started',
        at: m.startedAt,
        session: m.session.id,
        detail: m.scope.checklist,
      });
    const end = ends[0];
    const eligible = starts.filter((s) => !end || s.at <= end.at).sort((a, b) => a.at - b.at);
    const from = eligible[0] ?? starts.sort((a, b) => a.at - b.at)[0];
    if (!end) {
      open.push({ deploy: item, since: from.at });
      return;
    }
    restores.push({ deploy: item, from, to: end, ms: end.at - from.at });
  });

  return {
    environment: env,
    deploys: {
      count: items.length,
      perWeek: weeks > 0 ? items.length / weeks : 0,
      items,
      sessions: uniq(items.map((d) => d.session)),
      notReached: uniq(notReached),
    },
    leadTime: {
      medianMs: median(lead.map((l) => l.ms)),
      n: lead.length,
      items: lead,
      sessions: uniq(lead.flatMap((l) => [l.releaseSession, l.session])),
      missing,
    },
    changeFailure: {
      failed: failures.length,
      of: items.length,
      rate: items.length ? failures.length / items.length : null,
      items: failures,
      sessions: uniq(failures.flatMap((f) => [f.deploy.session, ...f.followedBy.map((m) => m.session)])),
    },
    restore: {
      medianMs: median(restores.map((r) => r.ms)),
      n: restores.length,
      items: restores,
      sessions: uniq(restores.flatMap((r) => [r.deploy.session, r.from.session, r.to.session])),
      open,
    },
  };
}

/** The four keys per environment from the facts of every session that matters (any order). */
export function computeStats(sessions: SessionFacts[], o: StatsOptions): Stats {
  const weeks = Math.max(0, o.now - o.since) / WEEK;
  const envs = new Set<string>();
  if (o.environment) envs.add(o.environment);
  else {
    envs.add('production');
    for (const s of sessions) for (const sc of s.scopes) if (sc.role === 'deploy') envs.add(sc.environment);
  }
  const sorted = sessions.slice().sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  return { since: o.since, now: o.now, weeks, environments: [...envs].map((env) => environmentStats(env, sorted, o, weeks)) };
}

/** The same from events held in memory (any number of sessions, each in order): for tests and small logs. */
export function statsFromEvents(events: Iterable<AuditEvent>, o: StatsOptions): Stats {
  const folds = new Map<string, SessionFold>();
  for (const e of events) {
    if (e.type === 'session.started') folds.set(e.sessionId, new SessionFold(e));
    else folds.get(e.sessionId)?.add(e);
  }
  return computeStats(
    [...folds.values()].map((f) => f.result()),
    o,
  );
}

/** `--since`: a duration back from now (90d, 12w, 36h) or a date (2026-09-01, ISO-8601); epoch ms, or why not. */
export function parseSince(text: string, now: number): { ok: true; at: number } | { ok: false; why: string } {
  const t = text.trim();
  const m = /^(\d+)(h|d|w)$/.exec(t);
  if (m) {
    const n = Number(m[1]);
    const at = now - n * { h: 3_600_000, d: DAY, w: WEEK }[m[2] as 'h' | 'd' | 'w'];
    if (n === 0 || !Number.isSafeInteger(at) || at < 0) return { ok: false, why: `--since ${text}: expected a positive span such as 90d` };
    return { ok: true, at };
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const at = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
    if (Number.isNaN(at)) return { ok: false, why: `--since ${text}: not a date` };
    if (at > now) return { ok: false, why: `--since ${text}: is in the future` };
    return { ok: true, at };
  }
  return { ok: false, why: `--since ${text}: expected a span back from now (90d, 12w, 36h) or a date (2026-09-01)` };
}
