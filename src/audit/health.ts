/**
 * Whether an audit store that opened is one: its tables are all there. A table dropped by hand (or a database that
 * is something else's) would otherwise fail later as "no such table" with a stack; here it is one sentence, exit 1
 * (the store cannot be used, like any other AuditStoreError).
 */
import { AuditStoreError } from './store.js';

/** The tables every cockpit audit store has (schema.ts and schema-pg.ts). */
export const AUDIT_TABLES = ['sessions', 'events', 'locks'] as const;

/** Throws naming the missing tables; `present` are the tables the database has. */
export function checkAuditTables(present: Iterable<string>, location: string): void {
  const have = new Set(present);
  const missing = AUDIT_TABLES.filter((t) => !have.has(t));
  if (!missing.length) return;
  const what = missing.length === 1 ? `table ${missing[0]} is missing` : `tables ${missing.join(', ')} are missing`;
  throw new AuditStoreError(`the audit log ${location}: ${what}: this is not a cockpit audit store, or it was damaged`);
}
