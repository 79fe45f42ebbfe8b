import type Database from 'better-sqlite3';
import { eventHash } from '../../src/audit/hash.js';
import type { AuditEvent } from '../../src/core/events.js';

/** An events row as SQL returns it (what a tamper test reads and writes with a plain database client). */
export interface EventRow {
  session_id: string;
  seq: number;
  time: number;
  type: string;
  step_id: string | null;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

/**
 * Append a forged event after a session's last one, chained to it as the cockpit would (an attacker with the file
 * and the code can); with `moveHead`, the session's head is moved to it too. Returns the event's hash.
 */
export function appendForged(db: Database.Database, e: AuditEvent, moveHead: boolean): string {
  const last = db.prepare('SELECT * FROM events WHERE session_id = ? AND seq = ?').get(e.sessionId, e.seq - 1) as EventRow;
  const hash = eventHash(last.hash, e);
  db.prepare(
    'INSERT INTO events (session_id, seq, time, type, step_id, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(e.sessionId, e.seq, e.time, e.type, e.stepId, e.actor, JSON.stringify(e.data), last.hash, hash);
  if (moveHead) db.prepare('UPDATE sessions SET last_seq = ?, last_hash = ? WHERE id = ?').run(e.seq, hash, e.sessionId);
  return hash;
}
