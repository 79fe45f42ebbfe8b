import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '../core/canonical.js';
import type { AuditEvent } from '../core/events.js';

export interface SessionHeader {
  id: string;
  checklistId: string;
  checklistTitle: string;
  checklistText: string;
  checklistSources: Record<string, string>;
  checklistSha256: string;
  params: Record<string, unknown>;
  environment: string | null;
  operator: string;
  host: string;
  startedAt: number;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The chain's first prev_hash binds the session row (checklist hash, params, operator) to its events. */
export function genesisHash(
  h: Pick<SessionHeader, 'id' | 'checklistId' | 'checklistSha256' | 'params' | 'environment' | 'operator' | 'host' | 'startedAt'>,
): string {
  return sha256(
    canonicalJson({
      id: h.id,
      checklistId: h.checklistId,
      checklistSha256: h.checklistSha256,
      params: h.params,
      environment: h.environment,
      operator: h.operator,
      host: h.host,
      startedAt: h.startedAt,
    }),
  );
}

/** What an event's hash covers: an event as the log holds it, without its hashes. Verification hashes rows as they are read, whatever their type says. */
export type HashedEvent = Omit<AuditEvent, 'type' | 'data'> & { type: string; data: unknown };

/**
 * `sha256(prevHash + canonical JSON of the event)`. The top level is written out in canonical (sorted) key order
 * by hand, and hashed with one `crypto.hash` call: this runs once per appended event, and building a wrapper
 * object to sort its seven keys cost more than the hashing. `test/unit/hash.test.ts` holds it equal to the
 * generic canonicalJson form.
 */
export function eventHash(prevHash: string, e: HashedEvent): string {
  const body =
    '{"actor":' +
    JSON.stringify(e.actor) +
    ',"data":' +
    canonicalJson(e.data) +
    ',"seq":' +
    canonicalJson(e.seq) +
    ',"sessionId":' +
    JSON.stringify(e.sessionId) +
    ',"stepId":' +
    (e.stepId == null ? 'null' : JSON.stringify(e.stepId)) +
    ',"time":' +
    canonicalJson(e.time) +
    ',"type":' +
    JSON.stringify(e.type) +
    '}';
  return hash('sha256', prevHash + body, 'hex');
}
