import { describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { newSessionRecord } from '../../src/engine/session.js';

// A finished session is closed: the store refuses anything after session.finished but a note, in the same
// transaction that would have appended it (a second process that read the session before it finished included).

function record(id: string, text = 'id: x\ntitle: X\nsteps: []\n') {
  return newSessionRecord({
    id,
    time: 1_000,
    identity: { operator: 'op', host: 'h' },
    version: 'test',
    checklist: { id: 'x', title: 'X', sha256: 'unused', text, sources: { x: text } },
    origin: { file: 'x.yaml', byId: false },
    params: {},
    environment: null,
    mode: 'non-interactive',
    plan: [],
    scopes: { '': { checklist: 'x', params: {} } },
  });
}

describe('a finished session in the store', () => {
  it('takes notes, and refuses every other event, even from a second handle on the same file', async () => {
    const store = new SqliteAuditStore(':memory:');
    const { header, first } = record('s1');
    await store.createSession(header, first);
    await store.append('s1', [{ type: 'session.finished', actor: 'op', data: { outcome: 'succeeded' } }]);
    await expect(
      store.append('s1', [{ type: 'note.added', actor: 'op', stepId: null, data: { text: 'postmortem: fine' } }]),
    ).resolves.toHaveLength(1);
    await expect(store.append('s1', [{ type: 'step.started', stepId: 'a', actor: 'op', data: { attempt: 1 } }])).rejects.toThrow(
      /session s1 has finished: nothing but notes can be recorded on it \(refused: step\.started\)/,
    );
    // Events after a session.finished in the same batch are refused too, and nothing of the batch is kept.
    const { header: h2, first: f2 } = record('s2');
    await store.createSession(h2, f2);
    await expect(
      store.append('s2', [
        { type: 'session.finished', actor: 'op', data: { outcome: 'succeeded' } },
        { type: 'step.passed', stepId: 'a', actor: 'op', data: { durationMs: 1, exitCode: 0, via: 'command' } },
      ]),
    ).rejects.toThrow(/has finished/);
    expect((await store.readEvents('s2')).map((e) => e.type)).toEqual(['session.started']);
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });

  it('keeps a secret written into a checklist out of the stored text, and still verifies', async () => {
    const store = new SqliteAuditStore(':memory:');
    const text =
      'id: x\ntitle: X\nsteps:\n  - {id: a, title: A, kind: run, run: "curl -H \'Authorization: Bearer s3cr3t-t0ken-value\' https://x"}\n';
    const { header, first } = record('s3', text);
    await store.createSession(header, first);
    const [row] = await store.listSessions();
    expect(row.checklistText).not.toContain('s3cr3t-t0ken-value');
    expect(JSON.stringify(row.checklistSources)).not.toContain('s3cr3t-t0ken-value');
    // The original's hash is kept (a resume compares it with the checklist as it is then).
    expect(row.checklistSha256).toBe('unused');
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });
});
