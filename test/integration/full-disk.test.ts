import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';

// A full disk, for real: SQLite's max_page_count (COCKPIT_AUDIT_MAX_PAGES) stops the audit file growing, so an
// append fails the way it does when the disk is full. Nothing may run that is not first durable; a result that
// cannot be written stops the run and says what ran; the next resume asks before running it again.

const CHECKLIST = `id: t
title: T
steps:
  - {id: a, title: A, kind: run, run: "echo a >> effects.log; seq 1 200000"}
  - {id: b, title: B, kind: run, run: "echo b >> effects.log"}
`;

describe('a full audit disk', () => {
  let repo: ReturnType<typeof tempRepo>;
  const c = (args: string[], env: Record<string, string> = {}) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir, env });
  const pages = () => {
    const db = new Database(path.join(repo.dir, '.cockpit', 'audit.db'), { readonly: true });
    try {
      return (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
    } finally {
      db.close();
    }
  };
  const effects = () =>
    existsSync(path.join(repo.dir, 'effects.log')) ? readFileSync(path.join(repo.dir, 'effects.log'), 'utf8').trim().split('\n') : [];

  beforeEach(() => {
    repo = tempRepo({ t: CHECKLIST, small: 'id: small\ntitle: Small\nsteps:\n  - {id: x, title: X, kind: run, run: "true"}\n' });
    expect(c(['run', 'small', '--non-interactive']).code).toBe(0);
  });
  afterEach(() => repo.cleanup());

  it('a step whose output cannot be recorded stops the run, says what ran and how it ended; the resume asks before running it again', () => {
    const full = c(['run', 't', '--non-interactive'], { COCKPIT_AUDIT_MAX_PAGES: String(pages() + 30) });
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(
      /could not be written: database or disk is full while step 'a' \(A\) ran: it passed with exit code 0, and that is not recorded\. Stopped\. Make room, then cockpit resume \S+/,
    );
    expect(full.stderr).not.toMatch(/^\s+at /m);
    expect(effects()).toEqual(['a']); // b did not run
    const [{ id }] = JSON.parse(c(['audit', 'list', '--json']).stdout) as Array<{ id: string }>;
    // Room again: a does not run again unasked.
    const waits = c(['resume', id, '--non-interactive']);
    expect(waits.code).toBe(1);
    expect(waits.stderr).toMatch(/step 'a' was interrupted and may have run/);
    expect(effects()).toEqual(['a']);
    const done = c(['resume', id, '--non-interactive', '--yes', 'a']);
    expect(done.code, done.stderr).toBe(0);
    expect(effects()).toEqual(['a', 'a', 'b']);
    expect(c(['audit', 'verify']).code).toBe(0);
  });

  it('a session that cannot even be opened runs nothing, and says so in one sentence', () => {
    const big = `id: big\ntitle: Big\nsteps:\n  - id: a\n    title: A\n    kind: run\n    run: echo a >> effects.log\n    help: "${'x'.repeat(40_000)}"\n`;
    repo.write('checklists/big.yaml', big);
    const r = c(['run', 'big', '--non-interactive'], { COCKPIT_AUDIT_MAX_PAGES: String(pages()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cockpit: the audit log \S+audit\.db could not be written: database or disk is full$/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(effects()).toEqual([]);
  });
});
