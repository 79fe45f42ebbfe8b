/**
 * The pre-release messages' due times over the audit log (core/notify/due.ts): what the home screen's due line and
 * `cockpit comms` say. Read the way the home screen reads (a plain reader, audit/sqlite-reader.ts): only the sessions
 * since the previous scheduled release, and of those only the ones whose newest delivery event says they delivered
 * something (one read from the log's end, `lastOfTypes`); only their notify rows are parsed.
 */
import type { AuditReader } from '../audit/sqlite-reader.js';
import type { SessionRow } from '../audit/store.js';
import { dueMessages, dueSince, type DueMessage, type RecordedDelivery } from '../core/notify/due.js';
import type { ScheduleTimes } from '../core/release/slot.js';

/** How many recent sessions are looked at: a fortnight of releases, deploys and communication runs fits easily. */
const RECENT_SESSIONS = 200;

/** Checklists whose `version` parameter names the release being prepared. */
const NAMES_NEXT_RELEASE = new Set(['release', 'communication']);

const versionOf = (s: SessionRow): string | null =>
  typeof s.params.version === 'string' && s.params.version.trim() ? s.params.version.trim() : null;

/** A session that may have recorded a delivery at or after `since`: started since, or not ended before it. */
const mayMatter = (s: SessionRow, since: number) => s.startedAt >= since || s.endedAt === null || s.endedAt >= since;

/** The deliveries recorded at or after `since`, by message, with their session's version. */
export async function recordedDeliveries(store: AuditReader, sessions: readonly SessionRow[], since: number): Promise<RecordedDelivery[]> {
  const out: RecordedDelivery[] = [];
  for (const s of sessions) {
    if (!mayMatter(s, since)) continue;
    const last = await store.lastOfTypes(s.id, ['notify.delivered']);
    if (!last || last.time < since) continue;
    // Which message a delivery is of is in its `notify.sending` (same step, same channel), recorded just before.
    const sending = new Map<string, string>();
    for await (const row of store.streamRows(s.id)) {
      if (row.seq > last.seq) break; // nothing after the newest delivery can be one
      if (row.type === 'notify.sending') {
        const d = JSON.parse(row.data) as { channel: string; message: string };
        sending.set(`${row.stepId} ${d.channel}`, d.message);
      } else if (row.type === 'notify.delivered' && row.time >= since) {
        const d = JSON.parse(row.data) as { channel: string };
        const message = sending.get(`${row.stepId} ${d.channel}`);
        if (message) out.push({ message, version: versionOf(s), at: row.time, sessionId: s.id });
      }
    }
  }
  return out;
}

/** The next release's version as the log knows it: the newest release or communication session since `since` that names one. */
export function nextReleaseVersion(sessions: readonly SessionRow[], since: number): string | null {
  const named = sessions.filter((s) => s.startedAt >= since && NAMES_NEXT_RELEASE.has(s.checklistId) && versionOf(s));
  named.sort((a, b) => b.startedAt - a.startedAt);
  return named[0] ? versionOf(named[0]) : null;
}

/**
 * The pre-release messages due for the next release at `now`, and whether each was sent (none without a schedule).
 * `listed`: sessions the caller read already (the home screen's newest `limit`, read for its list): used as they are
 * when they reach back to the previous release, else the newest RECENT_SESSIONS are read.
 */
export async function readDue(
  store: AuditReader,
  schedule: ScheduleTimes | undefined,
  now: number,
  listed?: { sessions: readonly SessionRow[]; limit: number },
): Promise<DueMessage[]> {
  if (!schedule) return [];
  const since = dueSince(schedule, now);
  const enough = listed && (listed.sessions.length < listed.limit || listed.sessions.some((s) => s.startedAt < since));
  const sessions = enough ? listed.sessions : await store.listSessions(RECENT_SESSIONS);
  return dueMessages(schedule, now, nextReleaseVersion(sessions, since), await recordedDeliveries(store, sessions, since));
}
