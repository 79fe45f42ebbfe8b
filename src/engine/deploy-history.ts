/**
 * The one reader of sessions' facts over the audit store (for `cockpit audit stats` and the deploy history): a
 * session at a time, a row at a time. Rows no fact comes from (a step's output, the watch's samples) are skipped
 * unparsed (core/stats.ts `STATS_EVENT_TYPES`), and a session that cannot matter is left after its first event.
 */
import type { AuditStore, SessionIndexRow } from '../audit/store.js';
import { toStored } from '../audit/rows.js';
import type { AuditEvent } from '../core/events.js';
import { SessionFold, STATS_EVENT_TYPES, type SessionFacts } from '../core/stats.js';
import { lastStableFrom, touchesEnvironment, type StableVersion } from '../core/deploy/history.js';

/** One session's facts, or null when it cannot matter (`keep` decides from its first event's fold). */
async function sessionFacts(store: AuditStore, s: SessionIndexRow, keep: (fold: SessionFold) => boolean): Promise<SessionFacts | null> {
  let fold: SessionFold | null = null;
  for await (const row of store.streamRows(s.id)) {
    if (!fold) {
      const first = toStored(row) as AuditEvent;
      if (first.type !== 'session.started') return null;
      fold = new SessionFold(first);
      if (!keep(fold)) return null;
      continue;
    }
    if (STATS_EVENT_TYPES.has(row.type)) fold.add(toStored(row));
  }
  return fold ? fold.result() : null;
}

/**
 * The facts of every session that matters to the stats, oldest first. A session that ended before `since` is read
 * only when it may have recorded a release's commits.
 */
export async function collectFacts(store: AuditStore, since: number): Promise<SessionFacts[]> {
  const facts: SessionFacts[] = [];
  for (const s of await store.sessionIndex()) {
    const f = await sessionFacts(store, s, (fold) => fold.relevant && (s.endedAt === null || s.endedAt >= since || fold.recordsReleases));
    if (f) facts.push(f);
  }
  return facts;
}

/**
 * The last stable version of `env` from the audit log (core/deploy/history.ts says what counts), or null when the log
 * has none. Sessions are read newest first, and only those that deploy or roll back somewhere; the reading stops at
 * the first session whose deploy answers (every session started after it has been read by then, and so every
 * rollback that could have rolled it back). `known`: facts already read by `collectFacts` (audit stats), by session
 * id: those sessions are not read again.
 */
export async function lastStable(store: AuditStore, env: string, known?: ReadonlyMap<string, SessionFacts>): Promise<StableVersion | null> {
  const facts: SessionFacts[] = [];
  const index = await store.sessionIndex();
  for (let i = index.length - 1; i >= 0; i--) {
    // Which environments a session deploys to or rolls back is in its plan: known at its first event.
    const f =
      known?.get(index[i].id) ??
      (await sessionFacts(store, index[i], (fold) => fold.deploysOrRollsBack && touchesEnvironment(fold.result(), env)));
    if (!f || !touchesEnvironment(f, env)) continue;
    facts.push(f);
    if (!f.scopes.some((s) => s.role === 'deploy' && s.environment === env && s.watch?.verdict === 'pass')) continue;
    const found = lastStableFrom(facts, env);
    if (found) return found;
  }
  return null;
}
