import type { RowVisitor } from './verify.js';
import type { EventType, NewEvent, StoredEvent } from '../core/events.js';
import type { SessionHeader } from './hash.js';
import type { RawEventRow } from './rows.js';
import type * as schema from './schema.js';
import { FailedError } from '../core/errors.js';

/** A row of the sessions table with its JSON columns parsed: the header the session began with, and its chain's head. */
export interface SessionRow extends Omit<typeof schema.sessions.$inferSelect, 'checklistSources' | 'params'>, SessionHeader {}

/** A session as `sessionIndex` lists it. */
export type SessionIndexRow = Pick<SessionRow, 'id' | 'startedAt' | 'endedAt'>;

/** Who holds a scope (a deploy environment, or a session): a row of the locks table. */
export type LockRow = typeof schema.locks.$inferSelect;

export type LockResult = { ok: true; tookOver?: LockRow } | { ok: false; held: LockRow };

/** A session's head as anchored outside the database (git's refs/cockpit/audit). */
export interface Anchor {
  seq: number;
  hash: string;
}

export interface VerifyProblem {
  sessionId: string;
  seq: number | null;
  message: string;
}

export interface VerifyReport {
  sessions: number;
  events: number;
  problems: VerifyProblem[];
  /** Sessions whose chain matched the head anchored in git. */
  anchored: number;
}

/**
 * The audit log. Append-only: the only writes are new sessions, new events (which advance the session's
 * head), and locks. Every string that reaches it is sanitised (secrets redacted, control sequences
 * neutralised) before it is hashed and stored.
 */
export interface AuditStore {
  readonly location: string;
  /** Literal values to redact from now on (secret env vars, secret params). */
  addSecrets(values: Iterable<string>): void;
  /** Sanitise a value the way the store would before storing it (for what is shown without being stored). */
  clean<T>(value: T): T;
  createSession(header: SessionHeader, first: NewEvent<'session.started'>): Promise<StoredEvent<'session.started'>>;
  /** Append events to a session in one durable transaction; returns them as stored (seq, hashes). */
  append(sessionId: string, events: NewEvent[]): Promise<StoredEvent[]>;
  /** A full id, or a unique prefix of one; `listCommand` is how the reader lists the sessions, said when none matches. */
  resolveSessionId(idOrPrefix: string, listCommand?: string): Promise<{ id: string } | { error: string }>;
  listSessions(limit?: number): Promise<SessionRow[]>;
  /** Every session's id, start and end, oldest first: a light index (no checklist text, no parameters) for a scan of the whole log. */
  sessionIndex(): Promise<SessionIndexRow[]>;
  readEvents(sessionId: string, fromSeq?: number): Promise<StoredEvent[]>;
  /** A session's newest event of one of these types, or null (read from the end: cheap when it is near the end). */
  lastOfTypes(sessionId: string, types: readonly EventType[]): Promise<StoredEvent | null>;
  /** A session's events in order, read as they are consumed (a session with 70 MB of output is never held whole). */
  streamEvents(sessionId: string): AsyncIterable<StoredEvent>;
  /** The same rows as stored, their data still JSON text (a JSON report copies it without parsing it). */
  streamRows(sessionId: string): AsyncIterable<RawEventRow>;
  acquireLock(lock: LockRow, isStale: (held: LockRow) => boolean): Promise<LockResult>;
  heartbeat(scope: string, sessionId: string, at: number): Promise<void>;
  releaseLock(scope: string, sessionId: string): Promise<void>;
  listLocks(): Promise<LockRow[]>;
  /** Check the chains (all sessions, or one), against the heads anchored in git when given. */
  /** `visit` sees every event row verify reads, in the same pass. */
  verify(sessionId?: string, anchors?: ReadonlyMap<string, readonly Anchor[]>, visit?: RowVisitor): Promise<VerifyReport>;
  close(): Promise<void>;
}

/** The audit store cannot be opened or used (exit 1). */
export class AuditStoreError extends FailedError {}

/** Whether `lock` may take the scope that `held` holds: free, its own, or a holder that is stale. */
export function lockDecision(held: LockRow | null | undefined, lock: LockRow, isStale: (held: LockRow) => boolean): LockResult {
  if (!held) return { ok: true };
  const mine = held.sessionId === lock.sessionId && held.pid === lock.pid && held.host === lock.host;
  if (mine) return { ok: true };
  return isStale(held) ? { ok: true, tookOver: held } : { ok: false, held };
}

export const SESSION_ID_PREFIX = /^[A-Za-z0-9-]+$/;

/** The session a user meant by an id or a unique prefix, from the (at most a few) ids that start with it. */
export function pickSession(
  idOrPrefix: string,
  candidates: string[],
  location: string,
  listCommand = 'cockpit audit list',
): { id: string } | { error: string } {
  if (candidates.includes(idOrPrefix)) return { id: idOrPrefix };
  if (candidates.length === 1) return { id: candidates[0] };
  if (!candidates.length) return { error: `no session '${idOrPrefix}' in ${location} (see: ${listCommand})` };
  return { error: `'${idOrPrefix}' matches several sessions: ${candidates.join(', ')}` };
}
