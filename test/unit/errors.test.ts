import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AuditStoreError } from '../../src/audit/store.js';
import { ConfigError } from '../../src/cli/config.js';
import { exitFor } from '../../src/cli/exit.js';
import { CockpitError, FailedError, ignoreCleanupError, reportIgnoredCleanupErrors, UsageError } from '../../src/core/errors.js';
import { EngineError } from '../../src/engine/session.js';
import { MigrationFileError } from '../../src/adapters/migrate/files.js';
import { BackfillDefinitionError, BackfillError } from '../../src/adapters/migrate/backfill.js';
import { MigrateError } from '../../src/adapters/migrate/runner.js';

function capture(): { stream: Writable; text: () => string } {
  let buf = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      buf += String(chunk);
      done();
    },
  });
  return { stream, text: () => buf };
}

describe('one error path: a thrown value becomes an exit code and one line, in cli/exit.ts', () => {
  it.each([
    ['bad input', new UsageError('--format x: expected text, json or md'), 2],
    ['a broken config', new ConfigError('cockpit.config.yaml:3:5: audit.url: expected a string'), 2],
    ['an unreadable migration file', new MigrationFileError('migrations/1_x.sql: no -- migrate:down section'), 2],
    ['a bad backfill definition', new BackfillDefinitionError('backfills/x.yaml:1:1: table: required'), 2],
    ['a backfill that failed', new BackfillError('batch 3 failed'), 1],
    ['a migration that failed', new MigrateError('relation "x" does not exist'), 1],
    ['an audit store that cannot be opened', new AuditStoreError('cannot open .cockpit/audit.db'), 1],
    ['a held lock', new EngineError('session 1 is locked by op@host', 1), 1],
    ['an operator stop', new EngineError('stopped', 3), 3],
  ])('%s: its own exit code, one line, no stack', (_what, error, code) => {
    const err = capture();
    expect(exitFor(error, err.stream, {})).toBe(code);
    expect(err.text()).toBe(`cockpit: ${error.message}\n`);
    expect(error).toBeInstanceOf(CockpitError);
  });

  it('anything else is an internal error: exit 1 with its stack; COCKPIT_DEBUG adds the stack of a cockpit error', () => {
    const err = capture();
    expect(exitFor(new TypeError('x is undefined'), err.stream, {})).toBe(1);
    expect(err.text()).toMatch(/^cockpit: internal error: TypeError: x is undefined\n {4}at /);
    const dbg = capture();
    expect(exitFor(new FailedError('no'), dbg.stream, { COCKPIT_DEBUG: '1' })).toBe(1);
    expect(dbg.text()).toMatch(/^cockpit: no\nFailedError: no\n {4}at /);
  });

  it('control sequences in a message are neutralised before they reach the terminal', () => {
    const err = capture();
    exitFor(new UsageError('no checklist \u001b]0;pwned\u0007x'), err.stream, {});
    expect(err.text()).not.toContain('\u001b');
  });

  it('a cleanup error is ignored through one named helper, told only when asked', async () => {
    const told: string[] = [];
    await Promise.reject(new Error('connection reset')).catch(ignoreCleanupError('closing a read-only connection'));
    reportIgnoredCleanupErrors((line) => told.push(line));
    try {
      await Promise.reject(new Error('connection reset')).catch(ignoreCleanupError('closing a read-only connection'));
    } finally {
      reportIgnoredCleanupErrors(null);
    }
    expect(told).toEqual(['ignored while cleaning up (closing a read-only connection): connection reset']);
  });

  it('every error class in src/ extends CockpitError (the one exception is a private control-flow signal)', () => {
    const root = path.resolve(import.meta.dirname, '../../src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(name)) files.push(p);
      }
    };
    walk(root);
    const plain = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/class (\w+) extends Error\b/g)].map((m) => `${path.relative(root, f)}: ${m[1]}`),
    );
    expect(plain.sort()).toEqual(['adapters/migrate/modules.ts: NeedsDatabase', 'core/errors.ts: CockpitError']);
  });
});
