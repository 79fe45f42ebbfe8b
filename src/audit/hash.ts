import { createHash } from 'node:crypto';
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
export function genesisHash(h: Pick<SessionHeader, 'id' | 'checklistId' | 'checklistSha256' | 'params' | 'environment' | 'operator' | 'host' | 'startedAt'>): string {
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

export function eventHash(prevHash: string, e: AuditEvent): string {
  return createHash('sha256')
    .update(prevHash)
    .update(
      canonicalJson({ sessionId: e.sessionId, seq: e.seq, time: e.time, type: e.type, stepId: e.stepId, actor: e.actor, data: e.data }),
    )
    .digest('hex');
}
