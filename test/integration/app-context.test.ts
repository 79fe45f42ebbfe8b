import { describe, expect, it } from 'vitest';
import { appContext, processIO, type AppIO } from '../../src/app/context.js';
import { recordCommand } from '../../src/app/record-command.js';
import { addNote } from '../../src/app/stopped.js';
import { Workspace } from '../../src/cli/setup.js';
import { tempRepo } from '../helpers/cli.js';

// The use cases take their clock, identity and streams from the context: a command recorded as a session is stamped
// with the injected clock (not the wall clock), and what it prints is taken from the context's streams.

describe('app/: use cases over an injected context', () => {
  it('a recorded command is a session stamped by the injected clock, with the context’s operator and output', async () => {
    const repo = tempRepo();
    try {
      const ws = new Workspace({ repo: repo.dir });
      let t = Date.UTC(2020, 0, 2, 3, 4, 5);
      const printed: string[] = [];
      const stream = () => ({ write: (chunk: unknown) => (printed.push(String(chunk)), true) }) as unknown as NodeJS.WriteStream;
      const io: AppIO = { ...processIO(), stdout: stream(), stderr: stream(), env: {}, isTerminal: () => false };
      const ctx = appContext(() => ws, { io, clock: { now: () => (t += 1000) }, identity: { operator: 'carol', host: 'box' } });
      const code = await recordCommand(ctx, { command: 'migrate upgrade', params: { sql: 'true' } }, async () => {
        ctx.io.stdout.write('applied 1 migration\n');
        return 0;
      });
      expect(code).toBe(0);
      expect(printed.join('')).toBe('applied 1 migration\n');
      const store = await ws.openStore();
      const [session] = await store.listSessions(5);
      expect(session.checklistId).toBe('cockpit-migrate-upgrade');
      expect(session.operator).toBe('carol');
      expect(session.startedAt).toBe(Date.UTC(2020, 0, 2, 3, 4, 6));
      expect(session.id.startsWith('20200102-030406-')).toBe(true);
      const events = await store.readEvents(session.id);
      expect(events[0].type).toBe('session.started');
      expect(events[0].data).toMatchObject({ operator: 'carol', host: 'box', mode: 'non-interactive', params: { sql: 'true' } });
      // Every event is stamped by the injected clock, none by the wall clock.
      for (const e of events) expect(e.time).toBeLessThan(Date.UTC(2021, 0, 1));
      expect(events.map((e) => e.type)).toEqual(['session.started', 'step.started', 'step.output', 'step.passed', 'session.finished']);

      // A note on the stopped session, through the same context: recorded with its operator.
      const noted = await addNote(ctx, { session: session.id.slice(0, 17), text: 'for the postmortem' });
      expect(noted.sessionId).toBe(session.id);
      const note = (await store.readEvents(session.id)).find((e) => e.type === 'note.added');
      expect(note?.actor).toBe('carol');
      await ws.close();
    } finally {
      repo.cleanup();
    }
  });
});
