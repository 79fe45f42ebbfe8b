/**
 * A command run from the command line (`cockpit migrate …`) records what it writes through the same buffer as a
 * checklist step: a secret written in two halves with a pause between them, or across the 64 KB line limit, is
 * redacted whole; nothing of it is in the audit database.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appContext, processIO, type AppIO } from '../../src/app/context.js';
import { recordCommand } from '../../src/app/record-command.js';
import { Workspace } from '../../src/cli/setup.js';
import { tempRepo } from '../helpers/cli.js';
import { CORPUS, leaked } from '../helpers/secret-corpus.js';

const SHAPES = ['quoted assignment with spaces', 'Cookie header', 'GitHub classic PAT', 'mysql -p'];

describe('command-line sessions: output is recorded as a stream', () => {
  it('secrets written in two halves 1.2 s apart, or across the line limit, are recorded redacted', async () => {
    const repo = tempRepo();
    try {
      const ws = new Workspace({ repo: repo.dir });
      const printed: string[] = [];
      const stream = () => ({ write: (chunk: unknown) => (printed.push(String(chunk)), true) }) as unknown as NodeJS.WriteStream;
      const io: AppIO = { ...processIO(), stdout: stream(), stderr: stream(), env: {}, isTerminal: () => false };
      const ctx = appContext(() => ws, { io, identity: { operator: 'carol', host: 'box' } });
      const entries = CORPUS.filter((e) => SHAPES.includes(e.shape));
      expect(entries).toHaveLength(SHAPES.length);
      const code = await recordCommand(ctx, { command: 'migrate upgrade', params: {} }, async () => {
        // two halves, a pause longer than the buffer's quiet time between them
        for (const e of entries.slice(0, 2)) {
          const cut = e.text.indexOf(e.secret) + Math.floor(e.secret.length / 2);
          ctx.io.stderr.write(`half: ${e.text.slice(0, cut)}`);
          await new Promise((r) => setTimeout(r, 1200));
          ctx.io.stderr.write(`${e.text.slice(cut)}\n`);
        }
        // across the line limit, in pipe-sized writes
        for (const e of entries) {
          const at = e.text.indexOf(e.secret) + Math.floor(e.secret.length / 2);
          const line = `${'lorem ipsum '.repeat(6000).slice(0, 64 * 1024 - 256 - at)} ${e.text}${' tail'.repeat(100)}\n`;
          for (let i = 0; i < line.length; i += 4096) ctx.io.stdout.write(line.slice(i, i + 4096));
        }
        return 0;
      });
      expect(code).toBe(0);
      const shown = printed.join('');
      for (const e of entries) expect(shown).toContain(e.secret); // the terminal shows what the command wrote
      const store = await ws.openStore();
      const [session] = await store.listSessions(5);
      const recorded = (await store.readEvents(session.id))
        .filter((e) => e.type === 'step.output')
        .map((e) => (e.data as { text: string }).text)
        .join('');
      expect(recorded).toContain('half: ');
      expect(recorded).toContain('lorem ipsum');
      for (const e of entries) expect(leaked(recorded, e.secret), e.shape).toBeNull();
      await ws.close();
      const db = path.join(repo.dir, '.cockpit', 'audit.db');
      for (const f of [db, `${db}-wal`].filter((x) => existsSync(x))) {
        const bytes = readFileSync(f).toString('latin1');
        for (const e of entries) expect(leaked(bytes, e.secret), `${e.shape} in ${path.basename(f)}`).toBeNull();
      }
    } finally {
      repo.cleanup();
    }
  }, 30_000);
});
