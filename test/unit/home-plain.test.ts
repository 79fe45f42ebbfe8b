/**
 * The home screen's plain first frame (tui/home-plain.ts, drawn before Ink loads: docs/architecture.md §6) is Ink's
 * own first frame of the home screen, byte for byte: both are rendered here from the same data, read from a real
 * repository's audit log (finished sessions, a failed one, a release calendar with its due line), at 80x24, 100x30
 * and 160x50, in colour and without. A layout change on either side alone (a column, a hint, a colour, a row) fails
 * here; so does a difference in how the texts are written (the styles' order, the cut with `…`, wide characters).
 */
import Database from 'better-sqlite3';
import chalk from 'chalk';
import { render } from 'ink';
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { createElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHomeData } from '../../src/cli/home-data.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { homeWorkspace, type BaseWorkspace } from '../../src/cli/workspace.js';
import { App } from '../../src/tui/App.js';
import { plainHomeFrame } from '../../src/tui/home-plain.js';
import { colorTheme, noColorTheme, type Theme } from '../../src/tui/theme-colors.js';
import type { HomeData } from '../../src/tui/types.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

const checklist = (id: string, title: string, run: string, params = '') =>
  `id: ${id}\ntitle: ${title}\n${params}steps:\n  - id: one\n    title: Step one\n    kind: run\n    run: "${run}"\n`;

let repo: ReturnType<typeof tempRepo>;
let cache: string;
const savedCache = process.env.XDG_CACHE_HOME;
const savedLevel = chalk.level;
let ws: BaseWorkspace;
let data: HomeData;
/** The time both renderers draw at: the sessions three hours before, the calendar's next slot days ahead. */
let now: number;
const clock = { now: () => now };

beforeAll(() => {
  repo = tempRepo({
    alpha: checklist('alpha', '准备发布 checklist 🚀 with a title long enough to be cut at eighty columns', 'true'),
    'broken-build': checklist('broken-build', 'A build that fails', 'false', 'params:\n  version: {type: string, required: false}\n'),
  });
  repo.write('cockpit.config.yaml', 'release:\n  schedule:\n    every: 14d\n    anchor: 2026-01-07T10:00:00Z\n');
  cache = mkdtempSync(path.join(os.tmpdir(), 'cockpit-cache-'));
  process.env.XDG_CACHE_HOME = cache;
  const env = { COCKPIT_OPERATOR: 'alice', XDG_CACHE_HOME: cache };
  for (const [id, params] of [
    ['alpha', []],
    ['broken-build', ['-p', 'version=1.2.3']],
    ['alpha', []],
  ] as const) {
    const r = cockpit(['run', id, ...params, '--non-interactive', '--yes', 'all'], { cwd: repo.dir, env });
    expect(r.code, r.stderr).toBe(id === 'broken-build' ? 1 : 0);
  }
  const db = new Database(path.join(repo.dir, '.cockpit', 'audit.db'));
  db.prepare('UPDATE sessions SET started_at = started_at - ?, ended_at = ended_at - ?').run(3 * 3600_000, 3 * 3600_000);
  db.close();
}, 60_000);

afterAll(() => {
  chalk.level = savedLevel;
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  repo?.cleanup();
  rmSync(cache, { recursive: true, force: true });
});

/** A terminal of `columns` x `rows` that keeps what is written to it. */
function terminal(columns: number, rows: number) {
  const out = Object.assign(new EventEmitter(), { columns, rows, writes: [] as string[] });
  return Object.assign(out, { write: (s: string) => (out.writes.push(s), true) });
}

/** Ink's first frame of the home screen (App, with the cockpit's services over the same workspace and time). */
async function inkFrame(columns: number, rows: number, theme: Theme): Promise<string> {
  const stdout = terminal(columns, rows);
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: false,
    setEncoding() {},
    setRawMode() {},
    ref() {},
    unref() {},
    read: () => null,
  });
  const services = workspaceServices(ws, () => undefined, { clock });
  let ready = false;
  const app = render(
    createElement(App, { services, initial: { name: 'home', data }, theme, onExit: () => undefined, onReady: () => (ready = true) }),
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  try {
    for (let i = 0; i < 100 && !ready; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ready, 'the home screen said it is ready').toBe(true);
    // The first frame written (debug mode writes each frame whole).
    return stdout.writes[0];
  } finally {
    app.unmount();
  }
}

const plain = (columns: number, rows: number, theme: Theme) =>
  plainHomeFrame({ data, version: workspaceServices(ws, () => undefined).version, operator: 'alice', now, columns, rows, theme });

describe("the home screen's plain first frame", () => {
  beforeAll(async () => {
    process.env.COCKPIT_OPERATOR = 'alice';
    ws = await homeWorkspace({ repo: repo.dir });
    const reader = await ws.plainReader();
    expect(reader, 'the log is read with the plain reader').not.toBeNull();
    now = Date.now();
    data = await readHomeData(ws, reader!, os.hostname(), now);
  });

  for (const [columns, rows] of [
    [80, 24],
    [100, 30],
    [160, 50],
  ] as const) {
    it(`is Ink's first frame, byte for byte, at ${columns}x${rows} (in colour and without)`, async () => {
      // The tests run without a terminal, where chalk writes no colour: both renderers share chalk, so colour is on for both.
      chalk.level = 1;
      for (const theme of [colorTheme, noColorTheme]) {
        const mine = plain(columns, rows, theme);
        const ink = await inkFrame(columns, rows, theme);
        expect(mine, 'the plain renderer draws this screen').not.toBeNull();
        // The text first (a readable difference), then the bytes.
        expect(stripVTControlCharacters(mine!)).toBe(stripVTControlCharacters(ink));
        expect(JSON.stringify(mine)).toBe(JSON.stringify(ink));
        if (theme === colorTheme) expect(mine).toContain('\u001b[33m✖');
      }
      const text = stripVTControlCharacters(plain(columns, rows, colorTheme)!);
      // What the operator must see, whatever the size: the sessions (the failed one first), the due line, the hints.
      for (const want of [
        'Sessions (3, resumable first)',
        '✖',
        'failed (resumable)',
        'announcement due',
        'broken-build',
        ' HOME ',
        '? help',
      ])
        expect(text, want).toContain(want);
      expect(text.split('\n')).toHaveLength(rows - 1);
    });
  }

  it('draws nothing where it cannot be sure to match Ink: a terminal below the least size', () => {
    expect(plain(59, 24, colorTheme)).toBeNull();
    expect(plain(80, 15, colorTheme)).toBeNull();
  });

  it('draws nothing for a text that would wrap (no sessions yet, on a narrow terminal)', () => {
    const empty = { ...data, sessions: [] };
    expect(plainHomeFrame({ data: empty, version: '0', operator: 'a', now, columns: 60, rows: 24, theme: colorTheme })).toBeNull();
    expect(plainHomeFrame({ data: empty, version: '0', operator: 'a', now, columns: 80, rows: 24, theme: colorTheme })).toContain(
      'no sessions yet',
    );
  });
});

// A release left waiting at its question, then the same version released by another session: the waiting one is
// overtaken (superseded), listed first and selected, and the message line says so (danger, bold) in both renderers.
const RELEASE = `id: release
title: Small release
params:
  version: {type: semver, required: true}
steps:
  - id: approve
    title: Approve the release
    kind: confirm
    prompt: "Release v\${version}?"
  - id: tag
    title: Tag the release
    kind: git.tag
    name: v\${version}
`;
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

describe("the home screen's plain first frame, with an overtaken release selected", () => {
  let release: ReturnType<typeof tempRepo>;
  beforeAll(async () => {
    release = tempRepo({ release: RELEASE });
    release.write('.gitignore', '.cockpit/\n');
    release.write('README', 'app\n');
    const git = (...args: string[]) =>
      expect(spawnSync('git', args, { cwd: release.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
    git('add', '-A');
    git('commit', '-qm', 'feat: first');
    const env = { ...GIT_ENV, COCKPIT_OPERATOR: 'alice', XDG_CACHE_HOME: cache };
    expect(cockpit(['run', 'release', '-p', 'version=1.2.3', '--non-interactive'], { cwd: release.dir, env }).code).toBe(1);
    const r = cockpit(['run', 'release', '-p', 'version=1.2.3', '--non-interactive', '--yes', 'all'], { cwd: release.dir, env });
    expect(r.code, r.stderr).toBe(0);
    ws = await homeWorkspace({ repo: release.dir });
    now = Date.now();
    data = await readHomeData(ws, (await ws.plainReader())!, os.hostname(), now);
    expect(data.sessions[0].superseded, 'the overtaken session is listed first').toBeDefined();
  }, 60_000);
  afterAll(() => release?.cleanup());

  for (const [columns, rows] of [
    [80, 24],
    [100, 30],
  ] as const)
    it(`is Ink's first frame, byte for byte, at ${columns}x${rows}: the row marked superseded, the message line saying by whom`, async () => {
      chalk.level = 1;
      const mine = plain(columns, rows, colorTheme);
      const ink = await inkFrame(columns, rows, colorTheme);
      expect(mine).not.toBeNull();
      expect(stripVTControlCharacters(mine!)).toBe(stripVTControlCharacters(ink));
      expect(JSON.stringify(mine)).toBe(JSON.stringify(ink));
      const lines = stripVTControlCharacters(mine!).split('\n');
      expect(lines.find((l) => l.startsWith('›'))).toContain('superseded');
      expect(lines.at(-2)).toMatch(/^superseded by \d{8}-/);
      expect(mine).toContain('\u001b[1m\u001b[31msuperseded by');
    });
});
