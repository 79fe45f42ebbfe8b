/**
 * The deploy history of an environment from the audit log alone: which version is the last stable one (what a
 * rollback goes back to), and why. Pure: sessions' facts in (`SessionFacts`, folded by core/stats.ts `SessionFold`
 * from the recorded events), an answer out. The reader (engine/deploy-history.ts) reads the sessions newest first and
 * stops as soon as `lastStableFrom` has an answer.
 *
 * A version is stable in an environment when a deploy of it reached the environment (its switch step, else its
 * deploy step, else its successful end: core/stats.ts `reachedAt`), the post-deploy watch inside that deploy passed
 * (its last `watch.finished` says `pass`), and no rollback since rolled it back. A rollback (checklist `rollback-code`,
 * not aborted; `rollback-db` leaves the code as it is) to version Y rolls back every deploy before it that came after the last deploy of Y
 * (those were live when it went back to Y); when Y was never deployed in the log, every deploy before it of a version
 * above Y; a rollback without a version (or to a version no earlier deploy is above), the newest deploy before it.
 */
import semver from 'semver';
import { reachedAt, type ScopeFacts, type SessionFacts } from '../stats.js';

export interface StableVersion {
  version: string;
  /** Why this version, in words: who deployed it, where, when, its watch, the rollbacks since. */
  why: string;
  /** The session that deployed it. */
  session?: string;
}

/** A deploy that reached the environment, as the history sees it. */
export interface DeployRecord {
  session: string;
  operator: string;
  version: string | null;
  /** When it reached the environment. */
  at: number;
  /** Its post-deploy watch's last verdict, when a watch inside it finished. */
  watch: ScopeFacts['watch'];
}

export interface RollbackRecord {
  session: string;
  checklist: string;
  /** The version it went back to (its `version` parameter). */
  version: string | null;
  /** When it began (its first step, else its session's start). */
  at: number;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * The one place a scope is recognised as a deploy that reached `env` (h-deploy's `deploy.*` events, once recorded,
 * are folded into the same `ScopeFacts` by `SessionFold`, so this stays the single reader of them).
 */
export function deployRecord(session: SessionFacts, scope: ScopeFacts, env: string): DeployRecord | null {
  if (scope.role !== 'deploy' || scope.environment !== env) return null;
  const reached = reachedAt(session, scope);
  if (!reached) return null;
  return { session: session.id, operator: session.operator, version: scope.version, at: reached.at, watch: scope.watch };
}

/** The code rollback a scope stands for in `env`, or null (not one, another environment, an aborted session). */
export function rollbackRecord(session: SessionFacts, scope: ScopeFacts, env: string): RollbackRecord | null {
  // A database rollback (rollback-db) leaves the code where it is: only a code rollback goes back from a version.
  if (scope.role !== 'rollback' || scope.checklist !== 'rollback-code' || scope.environment !== env || session.outcome === 'aborted')
    return null;
  const at = scope.scope === '' ? session.startedAt : (scope.firstAt ?? session.startedAt);
  return { session: session.id, checklist: scope.checklist, version: scope.version, at };
}

/** The deploys and rollbacks of `env` in these sessions, each list oldest first. */
export function historyOf(sessions: readonly SessionFacts[], env: string): { deploys: DeployRecord[]; rollbacks: RollbackRecord[] } {
  const deploys: DeployRecord[] = [];
  const rollbacks: RollbackRecord[] = [];
  for (const session of sessions)
    for (const scope of session.scopes) {
      const d = deployRecord(session, scope, env);
      if (d) deploys.push(d);
      const r = rollbackRecord(session, scope, env);
      if (r) rollbacks.push(r);
    }
  deploys.sort((a, b) => a.at - b.at || a.session.localeCompare(b.session));
  rollbacks.sort((a, b) => a.at - b.at || a.session.localeCompare(b.session));
  return { deploys, rollbacks };
}

/** The deploys a rollback rolled back (see the module's comment), from the deploys oldest first. */
export function rolledBackBy(r: RollbackRecord, deploys: readonly DeployRecord[]): DeployRecord[] {
  const before = deploys.filter((d) => d.at < r.at && d.session !== r.session);
  if (!before.length) return [];
  const y = r.version;
  if (y !== null) {
    let last = -1;
    before.forEach((d, i) => {
      if (d.version === y) last = i;
    });
    if (last >= 0) return before.slice(last + 1).filter((d) => d.version !== y);
    const above = semver.valid(y) ? before.filter((d) => d.version !== null && semver.valid(d.version) && semver.gt(d.version, y)) : [];
    if (above.length) return above;
  }
  const newest = before[before.length - 1];
  return newest.version === y ? [] : [newest];
}

function passedOver(d: DeployRecord, rolledBy: ReadonlyMap<DeployRecord, RollbackRecord>): string {
  const v = d.version ?? '(no version)';
  const r = rolledBy.get(d);
  if (r) return `${v} was rolled back by session ${r.session}${r.version ? ` (to ${r.version})` : ''}`;
  if (!d.watch) return `${v} (session ${d.session}) has no finished post-deploy watch`;
  if (d.watch.verdict !== 'pass')
    return `${v}'s watch ${d.watch.verdict === 'fail' ? 'failed' : 'was inconclusive'} (session ${d.session})`;
  return `${v} (session ${d.session}) recorded no version`;
}

/**
 * The last stable version of `env` from these sessions' facts (any order), with why; null when no deploy of the
 * environment reached it with a passed watch and stayed (the caller then takes the previous release tag, and says so).
 */
export function lastStableFrom(sessions: readonly SessionFacts[], env: string): StableVersion | null {
  const { deploys, rollbacks } = historyOf(sessions, env);
  const rolledBy = new Map<DeployRecord, RollbackRecord>();
  for (const r of rollbacks) for (const d of rolledBackBy(r, deploys)) if (!rolledBy.has(d)) rolledBy.set(d, r);
  const skipped: DeployRecord[] = [];
  for (let i = deploys.length - 1; i >= 0; i--) {
    const d = deploys[i];
    if (d.version === null || d.watch?.verdict !== 'pass' || rolledBy.has(d)) {
      skipped.push(d);
      continue;
    }
    const later = rollbacks.filter((r) => r.at > d.at);
    const since = later.length
      ? `no rollback away from it since (${later
          .slice(-3)
          .reverse()
          .map((r) => `session ${r.session} went back to ${r.version ?? 'an unnamed version'}`)
          .join('; ')}${later.length > 3 ? ` and ${later.length - 3} more` : ''})`
      : 'no rollback since';
    const newer = skipped.length
      ? `; newer deploys passed over: ${skipped
          .slice(0, 3)
          .map((s) => passedOver(s, rolledBy))
          .join('; ')}${skipped.length > 3 ? ` and ${skipped.length - 3} more` : ''}`
      : '';
    return {
      version: d.version,
      session: d.session,
      why: `${d.version}: deployed to ${env} by ${d.operator} in session ${d.session} on ${day(d.at)}, watch passed (${d.watch.step}), ${since}${newer}`,
    };
  }
  return null;
}

/** Whether a session's facts can change the answer: it deploys to or rolls back `env`. */
export function touchesEnvironment(session: SessionFacts, env: string): boolean {
  return session.scopes.some((s) => s.environment === env && (s.role === 'deploy' || s.role === 'rollback'));
}
