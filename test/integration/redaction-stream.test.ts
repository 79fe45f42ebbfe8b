/**
 * Issue 13, "no secret anywhere": a checklist step prints every secret shape of the corpus, whole, in two halves
 * with a pause longer than the output buffer's quiet time between them, and across the 64 KB line limit. None of
 * them may be found afterwards: not in the raw bytes of the audit database (the SQLite file and its WAL), not on
 * stdout or stderr, not in `audit show` in any format.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { CORPUS, leaked } from '../helpers/secret-corpus.js';

/** The line limit of OutputBuffer and what it holds back from a cut line's end. */
const LINE_LIMIT = 64 * 1024;
const OVERLAP = 256;
/** Entries printed in two halves, 1.2 s apart (a few: each pause costs the test its time). */
const SPLIT = ['quoted assignment with spaces', 'GitHub classic PAT', 'Authorization Bearer header'];

/** The step's program: prints the corpus in the three ways; run as `node print.mjs`. */
const PRINTER = `import { readFileSync } from 'node:fs';
const corpus = JSON.parse(readFileSync(new URL('./corpus.json', import.meta.url), 'utf8'));
const split = ${JSON.stringify(SPLIT)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const write = (s) => new Promise((r) => process.stdout.write(s, r));
await write('== whole\\n');
for (const e of corpus) await write(e.text + '\\n');
await write('== split\\n');
for (const e of corpus.filter((x) => split.includes(x.shape))) {
  const at = e.text.indexOf(e.secret) + Math.floor(e.secret.length / 2);
  await write('half: ' + e.text.slice(0, at));
  await sleep(1200);
  await write(e.text.slice(at) + '\\n');
}
await write('== at the line limit\\n');
for (const e of corpus.filter((x) => !x.text.includes('\\n'))) {
  // the secret's middle where a line over the limit is cut when ${LINE_LIMIT} + 100 characters are pending
  const at = e.text.indexOf(e.secret) + Math.floor(e.secret.length / 2);
  const first = ${LINE_LIMIT} + 100;
  const leadLen = first - ${OVERLAP} - at - 1;
  const line = 'lorem ipsum '.repeat(Math.ceil(leadLen / 12)).slice(0, leadLen) + ' ' + e.text + ' tail'.repeat(100) + '\\n';
  await write(line.slice(0, first));
  await sleep(30);
  await write(line.slice(first));
}
process.stderr.write('stderr too: ' + corpus[0].text + '\\n');
`;

let repo: ReturnType<typeof tempRepo>;
let run: ReturnType<typeof cockpit>;
let id: string;
const c = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir });

beforeAll(() => {
  repo = tempRepo({
    leak: `id: leak
title: Prints secrets
steps:
  - id: print
    title: Print the corpus
    kind: run
    run: node print.mjs
`,
  });
  repo.write('print.mjs', PRINTER);
  repo.write('corpus.json', JSON.stringify(CORPUS));
  run = c('run', 'leak', '--non-interactive', '--json');
  id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
}, 120_000);
afterAll(() => repo.cleanup());

describe('no secret anywhere: a run step printing the secret corpus', () => {
  it('the step ran and its output was recorded (in all three ways)', () => {
    expect(run.code, run.stderr).toBe(0);
    const text = c('audit', 'show', id, '--format', 'json');
    expect(text.code, text.stderr).toBe(0);
    for (const marker of ['== whole', '== split', '== at the line limit', 'half: ', 'lorem ipsum', 'stderr too']) {
      expect(text.stdout).toContain(marker);
    }
    expect(text.stdout).toContain('[REDACTED]');
  });

  it('no secret in the raw bytes of the audit database files', () => {
    const db = path.join(repo.dir, '.cockpit', 'audit.db');
    const files = [db, `${db}-wal`, `${db}-shm`, `${db}-journal`].filter((f) => existsSync(f));
    expect(files).toContain(db);
    for (const f of files) {
      const bytes = readFileSync(f).toString('latin1');
      for (const e of CORPUS) expect(leaked(bytes, e.secret), `${e.shape} in ${path.basename(f)}`).toBeNull();
    }
  });

  it('no secret on stdout or stderr of the run', () => {
    for (const e of CORPUS) {
      expect(leaked(run.stdout, e.secret), `${e.shape} on stdout`).toBeNull();
      expect(leaked(run.stderr, e.secret), `${e.shape} on stderr`).toBeNull();
    }
  });

  it.each(['text', 'json', 'md'])('no secret in audit show --format %s', (format) => {
    const shown = c('audit', 'show', id, '--format', format);
    expect(shown.code, shown.stderr).toBe(0);
    for (const e of CORPUS) expect(leaked(shown.stdout, e.secret), e.shape).toBeNull();
  });
});
