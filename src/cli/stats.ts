import type { AuditStore } from '../audit/store.js';
import { toStored } from '../audit/rows.js';
import type { AuditEvent } from '../core/events.js';
import { neutralize } from '../core/sanitize.js';
import { computeStats, parseSince, SessionFold, STATS_EVENT_TYPES, type SessionFacts } from '../core/stats.js';
import { renderStatsJson, renderStatsText } from '../report/stats.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

/**
 * The facts of every session that matters, read one session at a time and one row at a time: rows the stats do not
 * read (a step's output, the watch's samples) are skipped unparsed, and a session that cannot matter is left after its
 * first event. A session that ended before `since` is read only when it may have recorded a release's commits.
 */
export async function collectFacts(store: AuditStore, since: number): Promise<SessionFacts[]> {
  const facts: SessionFacts[] = [];
  for (const s of await store.sessionIndex()) {
    let fold: SessionFold | null = null;
    for await (const row of store.streamRows(s.id)) {
      if (!fold) {
        const first = toStored(row) as AuditEvent;
        if (first.type !== 'session.started') break;
        fold = new SessionFold(first);
        if (!fold.relevant || (s.endedAt !== null && s.endedAt < since && !fold.recordsReleases)) {
          fold = null;
          break;
        }
        continue;
      }
      if (STATS_EVENT_TYPES.has(row.type)) fold.add(toStored(row));
    }
    if (fold) facts.push(fold.result());
  }
  return facts;
}

export async function cmdAuditStats(g: GlobalOptions, flags: { since?: string; env?: string; json?: boolean }): Promise<number> {
  const now = Date.now();
  const since = parseSince(flags.since ?? '90d', now);
  if (!since.ok) throw new UsageError(since.why);
  if (flags.env !== undefined && !/^[A-Za-z0-9._-]+$/.test(flags.env))
    throw new UsageError(`--env ${flags.env}: expected an environment name such as production or staging`);
  const store = await new Workspace(g).openStore({ readOnly: true });
  const stats = computeStats(await collectFacts(store, since.at), { since: since.at, now, environment: flags.env });
  process.stdout.write(flags.json ? renderStatsJson(stats, store.location) : neutralize(renderStatsText(stats, store.location)));
  return 0;
}
