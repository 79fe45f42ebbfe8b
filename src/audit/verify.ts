import { bundleSha } from '../core/checklist/sha.js';
import { canonicalJson } from '../core/canonical.js';
import type { EventDataMap } from '../core/events.js';
import { eventHash, genesisHash, type HashedEvent } from './hash.js';
import { toSessionRow, type RawEventRow, type RawSessionRow } from './rows.js';
import type { Anchor, SessionRow, VerifyProblem, VerifyReport } from './store.js';

/**
 * Check one session's chain. Stops at the first bad event (everything after it is unverifiable) and names it.
 * Events must come ordered by seq.
 */
export function verifySession(
  session: SessionRow,
  rows: Iterable<RawEventRow>,
  anchors: readonly Anchor[] = [],
): { events: number; problem: VerifyProblem | null } {
  const bad = (seq: number | null, message: string) => ({ sessionId: session.id, seq, message });
  let count = 0;
  if (session.checklistSources[session.checklistId] !== session.checklistText) {
    return { events: 0, problem: bad(null, 'session row was edited: the stored checklist text does not match its sources') };
  }
  let prev = genesisHash(session);
  let expected = 1;
  let finished: { seq: number; time: number; outcome: unknown } | null = null;
  for (const row of rows) {
    count++;
    const label = `event #${row.seq} (${row.type})`;
    if (row.seq !== expected) {
      return {
        events: count,
        problem: bad(
          expected,
          row.seq > expected ? `event #${expected} is missing (deleted): the next stored event is #${row.seq}` : `${label} is duplicated`,
        ),
      };
    }
    if (row.prevHash !== prev) {
      return {
        events: count,
        problem: bad(
          row.seq,
          expected === 1
            ? `${label} does not chain to the session row: the session's header (checklist, params, operator) was edited`
            : `${label} does not follow event #${row.seq - 1}: events were reordered, replaced or inserted`,
        ),
      };
    }
    let data: unknown;
    try {
      data = JSON.parse(row.data);
    } catch {
      return { events: count, problem: bad(row.seq, `${label} was edited: its data is not valid JSON`) };
    }
    const event: HashedEvent = {
      sessionId: row.sessionId,
      seq: row.seq,
      time: row.time,
      type: row.type,
      stepId: row.stepId,
      actor: row.actor,
      data,
    };
    if (eventHash(prev, event) !== row.hash) {
      return { events: count, problem: bad(row.seq, `${label} was edited: its hash does not match its contents`) };
    }
    const anchor = anchors.find((a) => a.seq === row.seq && a.hash !== row.hash);
    if (anchor) {
      return {
        events: count,
        problem: bad(
          row.seq,
          `${label} is not the event anchored in git (${ANCHOR_NAME}): the chain was rewritten after it was anchored (anchored hash ${anchor.hash.slice(0, 16)}, now ${row.hash.slice(0, 16)})`,
        ),
      };
    }
    if (finished && row.type !== 'note.added') {
      return {
        events: count,
        problem: bad(
          row.seq,
          `${label} was recorded after the session finished (event #${finished.seq}): a finished session takes only notes`,
        ),
      };
    }
    if (row.seq === 1) {
      const edited = headerMismatch(session, row.time, data);
      if (edited)
        return { events: count, problem: bad(null, `session row was edited: ${edited} does not match event #1 (session.started)`) };
      // The stored text hashes to the original's sha256, or (a secret in it redacted) to the one event #1 records.
      const d = data as { checklist?: { storedSha256?: string } };
      if (bundleSha(session.checklistSources) !== (d.checklist?.storedSha256 ?? session.checklistSha256))
        return { events: count, problem: bad(null, 'session row was edited: the stored checklist text does not match its sha256') };
    }
    if (row.type === 'session.finished')
      finished = { seq: row.seq, time: row.time, outcome: (data as { outcome?: unknown } | null)?.outcome ?? null };
    prev = row.hash;
    expected++;
  }
  const last = expected - 1;
  const furthest = Math.max(0, ...anchors.map((a) => a.seq));
  if (last < furthest) {
    return {
      events: count,
      problem: bad(
        last + 1,
        `events #${last + 1}–#${furthest} are missing: the log ends at #${last} but #${furthest} was anchored in git (${ANCHOR_NAME})`,
      ),
    };
  }
  if (last < session.lastSeq) {
    return {
      events: count,
      problem: bad(
        last + 1,
        `events #${last + 1}–#${session.lastSeq} were deleted: the log ends at #${last} but the session's head says #${session.lastSeq}`,
      ),
    };
  }
  if (last > session.lastSeq || prev !== session.lastHash) {
    return {
      events: count,
      problem: bad(
        last,
        `the session's head (#${session.lastSeq}) does not match its last event (#${last}): the session row or the log's tail was edited`,
      ),
    };
  }
  // outcome and ended_at are not hashed: they are copies of the session.finished event, so they must match it.
  const fin = finished ? `event #${finished.seq} (session.finished)` : 'the log (no session.finished event)';
  if ((finished?.outcome ?? null) !== session.outcome) {
    return {
      events: count,
      problem: bad(
        finished?.seq ?? null,
        `session row was edited: its outcome '${session.outcome ?? 'none'}' does not match ${fin}${finished ? `: '${String(finished.outcome)}'` : ''}`,
      ),
    };
  }
  if ((finished?.time ?? null) !== session.endedAt) {
    return { events: count, problem: bad(finished?.seq ?? null, `session row was edited: its end time does not match ${fin}`) };
  }
  return { events: count, problem: null };
}

/**
 * The session row's fields that the genesis hash does not cover, held against the first event's data (which the
 * chain covers): an edited title, checklist id or hash, parameters, operator, host or start time is found here.
 */
function headerMismatch(session: SessionRow, time: number, data: unknown): string | null {
  const d = data as Partial<EventDataMap['session.started']> | null;
  if (!d || typeof d !== 'object') return 'its first event';
  const checks: Array<[string, unknown, unknown]> = [
    ['its checklist title', session.checklistTitle, d.checklist?.title],
    ['its checklist id', session.checklistId, d.checklist?.id],
    ['its checklist sha256', session.checklistSha256, d.checklist?.sha256],
    ['its parameters', canonicalJson(session.params), canonicalJson(d.params ?? null)],
    ['its environment', session.environment, d.environment ?? null],
    ['its operator', session.operator, d.operator],
    ['its host', session.host, d.host],
    ['its start time', session.startedAt, time],
  ];
  return checks.find(([, row, event]) => row !== event)?.[0] ?? null;
}

/** What verification reads from a store, whatever its dialect. */
/** Sees every event row verify reads, in the same pass (a caller's own checks need no second read of the log). */
export type RowVisitor = (sessionId: string, row: RawEventRow) => void;

export interface VerifySource {
  sessions(id?: string): Promise<RawSessionRow[]>;
  events(sessionId: string): Promise<RawEventRow[]>;
  /** Session ids that have events but no session row. */
  orphans(): Promise<string[]>;
}

const ANCHOR_NAME = 'refs/cockpit/audit';

/**
 * Verify every session's chain (or one), and, given the anchors, that each anchored session is in the store with
 * its anchored event unchanged and nothing cut before it.
 */
export async function verifyStore(
  src: VerifySource,
  sessionId?: string,
  anchors?: ReadonlyMap<string, readonly Anchor[]>,
  visit?: RowVisitor,
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  let eventsChecked = 0;
  let anchored = 0;
  let rows: RawSessionRow[] = [];
  try {
    rows = await src.sessions(sessionId);
    for (const r of rows) {
      let session: SessionRow;
      try {
        session = toSessionRow(r);
      } catch {
        problems.push({ sessionId: r.id, seq: null, message: 'session row was edited: its JSON columns do not parse' });
        continue;
      }
      const mine = anchors?.get(r.id) ?? [];
      const rows = await src.events(r.id);
      if (visit) for (const row of rows) visit(r.id, row);
      const res = verifySession(session, rows, mine);
      eventsChecked += res.events;
      if (res.problem) problems.push(res.problem);
      else if (mine.length) anchored++;
    }
    if (!sessionId) {
      for (const id of await src.orphans())
        problems.push({ sessionId: id, seq: null, message: 'the session row was deleted but its events remain' });
      const present = new Set(rows.map((r) => r.id));
      for (const [id, list] of anchors ?? [])
        if (!present.has(id) && list.length)
          problems.push({
            sessionId: id,
            seq: null,
            message: `anchored in git (${ANCHOR_NAME}) at event #${Math.max(...list.map((a) => a.seq))}, but the session is missing from the store: it was deleted`,
          });
    }
  } catch (e) {
    problems.push({ sessionId: sessionId ?? '*', seq: null, message: `the audit database is damaged: ${(e as Error).message}` });
  }
  return { sessions: rows.length, events: eventsChecked, problems, anchored };
}
