import { isProcessAlive } from '../adapters/process-alive.js';
import type { LockRow, SessionRow } from '../audit/store.js';
import type { AuditReader } from '../audit/sqlite-reader.js';
import type { SessionEntry } from '../tui/types.js';
import { redactedParams } from '../core/sanitize.js';
import { waitingText } from '../core/approval.js';

/**
 * Whom a session not finished waits for, in the approve step's own words ("waiting for a senior developer's approval
 * (alice, bob)"): its newest approval request still without a verdict, else null. One read from the log's end.
 */
export async function waitingFor(store: AuditReader, sessionId: string): Promise<string | null> {
  const last = await store.lastOfTypes(sessionId, ['approval.requested', 'approval.resolved']);
  return last?.type === 'approval.requested' ? waitingText(last.data.role, last.data.approvers) : null;
}

/** A row of `audit list`, and of the home screen's sessions. */
export type SessionListRow = SessionEntry;

/** What a session is doing now, from its last event and its lock (the locks read once for the whole list). */
export async function sessionStatus(store: AuditReader, s: SessionRow, locks: LockRow[], host: string): Promise<string> {
  if (s.outcome) return s.outcome;
  const [last] = await store.readEvents(s.id, s.lastSeq);
  if (last?.type === 'session.paused') {
    const reason = last.data.reason;
    return reason === 'confirmation-required'
      ? 'waiting (resumable)'
      : reason === 'step-failed'
        ? 'failed (resumable)'
        : 'stopped (resumable)';
  }
  const lock = locks.find((l) => l.sessionId === s.id);
  const alive = lock && (lock.host !== host || isProcessAlive(lock.pid));
  return alive ? 'running' : 'crashed (resumable)';
}

/**
 * Recent sessions with what each is doing now, resumable ones first: what `audit list` and the home screen show.
 * With the repository, a resumable release whose version another session released since is marked superseded.
 */
export async function sessionRows(
  store: AuditReader,
  limit: number,
  host: string,
  repoDir?: string,
  listed?: SessionRow[],
): Promise<SessionListRow[]> {
  const sessions = listed ?? (await store.listSessions(limit));
  const locks = await store.listLocks();
  const rows = await Promise.all(
    sessions.map(async (s): Promise<SessionListRow> => {
      const now = await sessionStatus(store, s, locks, host);
      // A running session at an approve step: whom it waits for is what the operator looks for.
      const waiting = now === 'running' ? await waitingFor(store, s.id) : null;
      const status = waiting ?? now;
      return {
        id: s.id,
        checklist: s.checklistId,
        params: Object.entries(s.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        operator: s.operator,
        status,
        resumable: status.includes('resumable'),
        running: now === 'running',
        finished: !!s.outcome,
        startedAt: s.startedAt,
        secrets: redactedParams(s.params),
        ...(s.endedAt ? { endedAt: s.endedAt } : {}),
      };
    }),
  );
  if (repoDir) {
    const open = sessions.filter((_, i) => rows[i].resumable && !rows[i].running);
    // Loaded only when there is a session to check: git and semver stay out of the home screen's start-up otherwise.
    const overtaken = open.length
      ? await (await import('../app/superseded.js')).supersededSessions(store, open, sessions, repoDir)
      : new Map();
    for (const row of rows) {
      const s = overtaken.get(row.id);
      if (s) row.superseded = s;
    }
  }
  // Resumable sessions first: they are what an on-call engineer is looking for.
  return rows.sort((a, b) => Number(b.resumable) - Number(a.resumable));
}
