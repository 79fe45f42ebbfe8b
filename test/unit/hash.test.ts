import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventHash } from '../../src/audit/hash.js';
import { canonicalJson } from '../../src/core/canonical.js';
import type { AuditEvent } from '../../src/core/events.js';

const generic = (prev: string, e: AuditEvent) =>
  createHash('sha256')
    .update(
      prev +
        canonicalJson({ sessionId: e.sessionId, seq: e.seq, time: e.time, type: e.type, stepId: e.stepId, actor: e.actor, data: e.data }),
    )
    .digest('hex');

describe('eventHash', () => {
  it('equals sha256(prev + canonical JSON of the event) for awkward events', () => {
    const events: AuditEvent[] = [
      {
        sessionId: 's-1',
        seq: 1,
        time: 1795747311864,
        type: 'session.started',
        stepId: null,
        actor: 'alice',
        data: { z: 1, a: [3, { y: 'é', b: null }], m: 'line\nnext "q"' } as never,
      },
      {
        sessionId: 's-1',
        seq: 2,
        time: 0,
        type: 'step.output',
        stepId: 'inc/step',
        actor: 'cockpit',
        data: { stream: 'stdout', text: '\u2028\u0000␛[31m' },
      },
      { sessionId: 's"x', seq: 99, time: 1.5e12, type: 'note.added', stepId: 'a', actor: "o'brien", data: { text: '' } },
    ];
    let prev = 'genesis';
    for (const e of events) {
      expect(eventHash(prev, e)).toBe(generic(prev, e));
      prev = eventHash(prev, e);
    }
  });

  it('changes when any field changes', () => {
    const e: AuditEvent = { sessionId: 's', seq: 1, time: 5, type: 'note.added', stepId: null, actor: 'a', data: { text: 'x' } };
    const base = eventHash('p', e);
    for (const changed of [
      { ...e, seq: 2 },
      { ...e, time: 6 },
      { ...e, actor: 'b' },
      { ...e, stepId: 'x' },
      { ...e, data: { text: 'y' } },
      { ...e, type: 'step.started' as const },
    ]) {
      expect(eventHash('p', changed as AuditEvent)).not.toBe(base);
    }
    expect(eventHash('q', e)).not.toBe(base);
  });
});
