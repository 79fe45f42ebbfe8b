import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { supersededWords } from '../../src/tui/model.js';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import { frameProblem, Tmux } from '../helpers/tmux.js';

// Sessions that are overtaken say so: a release session left waiting while another session released the same version
// is shown as superseded (by that session) on home and in the session screen, and home aborts it with the reason.
// A real git repository, real sessions (`cockpit run`), the real screen in tmux.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

// The repository's own `release` (it overrides the default): a question, then the tag the release makes.
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

let repo: ReturnType<typeof tempRepo>;
let waiting = ''; // release 1.2.3, left waiting at its question
let released = ''; // release 1.2.3, run to the end after it: it made the tag
let other = ''; // release 1.2.4, waiting: its version is not released, so it is not superseded
const run = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { env: GIT_ENV });

beforeAll(() => {
  repo = tempRepo({ release: RELEASE });
  repo.write('.gitignore', '.cockpit/\n');
  repo.write('README', 'app\n');
  const git = (...args: string[]) => expect(spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
  git('add', '-A');
  git('commit', '-qm', 'feat: first');
  const ids = () => (JSON.parse(run('audit', 'list', '--json').stdout) as Array<{ id: string; params: string }>).map((s) => s.id);
  expect(run('run', 'release', '-p', 'version=1.2.3', '--non-interactive').code).toBe(1);
  [waiting] = ids();
  expect(run('run', 'release', '-p', 'version=1.2.4', '--non-interactive').code).toBe(1);
  other = ids().find((id) => id !== waiting)!;
  const r = run('run', 'release', '-p', 'version=1.2.3', '--non-interactive', '--yes', 'all');
  expect(r.code, r.stderr).toBe(0);
  released = ids().find((id) => id !== waiting && id !== other)!;
  expect(spawnSync('git', ['rev-parse', '-q', '--verify', 'refs/tags/v1.2.3'], { cwd: repo.dir }).status).toBe(0);
});
afterAll(() => repo.cleanup());

// Before the screen tests below: the last of them aborts the waiting session.
describe('audit list', () => {
  it('marks the waiting release superseded by the session that released its version, in text and JSON, as home does', () => {
    const text = run('audit', 'list');
    expect(text.code, text.stderr).toBe(0);
    const line = (id: string) => text.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line(waiting)).toContain(`superseded by ${released} (v1.2.3)`);
    expect(line(waiting)).not.toContain('resumable');
    expect(line(other)).toContain('waiting (resumable)');
    expect(line(released)).toContain('succeeded');
    const json = JSON.parse(run('audit', 'list', '--json').stdout) as Array<{ id: string; status: string; superseded?: unknown }>;
    expect(json.find((x) => x.id === waiting)).toMatchObject({
      status: `superseded by ${released} (v1.2.3)`,
      superseded: { version: '1.2.3', tag: 'v1.2.3', by: { id: released, operator: 'tester' } },
    });
    expect(json.find((x) => x.id === other)?.superseded).toBeUndefined();
  });
});

describe.skipIf(!tmuxOk.ok)(`a superseded release session in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let term: Tmux | undefined;
  afterEach(() => {
    term?.kill();
    term = undefined;
  });
  const open = (args: string) =>
    (term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} ${args}`, {
      cwd: repo.dir,
      env: { ...GIT_ENV, NO_COLOR: '1', COCKPIT_OPERATOR: 'alice' },
      width: 100,
      height: 30,
    }));
  const until = async (pred: (s: string) => boolean, what: string) => {
    const s = await term!.settled(await term!.waitFor(pred, what));
    expect(frameProblem(s, 100, 30), s).toBeNull();
    return s;
  };
  const row = (s: string, id: string) => s.split('\n').find((l) => l.includes(id)) ?? '';

  /** Home, with the waiting 1.2.3 session selected. */
  async function selectWaiting(): Promise<string> {
    let s = await until((x) => x.includes(' Sessions (3'), 'the home screen with the three sessions');
    for (let i = 0; i < 5 && !row(s, waiting).startsWith('›'); i++) {
      const before = s;
      term!.send('Down');
      s = await until((x) => x !== before, 'the selection to move');
    }
    expect(row(s, waiting)).toMatch(/^›/);
    return s;
  }

  it('home marks the waiting release as superseded by the session that released its version, and says so in full when selected', async () => {
    open('');
    const s = await selectWaiting();
    expect(row(s, waiting)).toMatch(new RegExp(`release\\s+superseded\\s`));
    expect(row(s, waiting)).toMatch(new RegExp(`superseded\\s.*\\sby ${released.slice(0, 4)}`));
    expect(row(s, other)).toMatch(/waiting \(resumable\)/);
    expect(row(s, other)).not.toContain('superseded');
    expect(term!.screen({ joined: true })).toMatch(
      new RegExp(`^superseded by ${released} \\(v1\\.2\\.3 released \\S+ ago by tester\\): a aborts it$`, 'm'),
    );
    expect(s).toMatch(/a abort/);
  });

  it('the session screen of the superseded session says so too', async () => {
    open(`resume ${waiting}`);
    const s = await until(
      (x) => x.includes('Release v1.2.3?') && x.includes('superseded by'),
      'the session screen saying it is superseded',
    );
    expect(term!.screen({ joined: true })).toMatch(
      new RegExp(`^superseded by ${released} \\(v1\\.2\\.3 released \\S+ ago by tester\\): a aborts it$`, 'm'),
    );
    expect(s).not.toContain('${');
    term!.send('q');
    await until((x) => x.includes('[y/N]'), 'the question whether to quit');
    term!.send('y');
    expect(await term!.waitForExit()).toBe(3);
  });

  it('home aborts it (after a yes), recording why; the other waiting release stays resumable', async () => {
    open('');
    await selectWaiting();
    term!.send('a');
    await until((x) => x.includes(`Abort session ${waiting}?`), 'the question whether to abort');
    term!.send('y');
    await until((x) => x.includes(`session ${waiting} closed as aborted`), 'the abort said done');
    const s = await until((x) => /\saborted\s/.test(row(x, waiting)), 'the list read again, the session aborted');
    expect(row(s, waiting)).not.toContain('superseded');
    term!.send('q');
    expect(await term!.waitForExit()).toBe(0);

    const list = JSON.parse(run('audit', 'list', '--json').stdout) as Array<{ id: string; status: string }>;
    expect(list.find((x) => x.id === waiting)?.status).toBe('aborted');
    expect(list.find((x) => x.id === other)?.status).toMatch(/waiting/);
    const shown = run('audit', 'show', waiting);
    expect(shown.stdout).toContain(`superseded: v1.2.3 was released by session ${released}`);
    expect(run('audit', 'verify').code).toBe(0);
  });
});

describe('what counts as superseded', () => {
  // The home screen's list (the same service it reads), on a repository of its own.
  const PUSHED = `${RELEASE}  - id: push
    title: Push the release
    kind: git.push
    remote: nowhere
    refs: ["v\${version}"]
`;
  let own: ReturnType<typeof tempRepo>;
  beforeAll(() => {
    own = tempRepo({ release: PUSHED });
    own.write('.gitignore', '.cockpit/\n');
    own.write('README', 'app\n');
    const git = (...args: string[]) => expect(spawnSync('git', args, { cwd: own.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
    git('add', '-A');
    git('commit', '-qm', 'feat: first');
    const runHere = (...args: string[]) => cockpit(['--repo', own.dir, ...args], { env: GIT_ENV });
    // 3.0.0 tags itself, then fails to push (there is no remote 'nowhere'): its tag is its own, not another's.
    expect(runHere('run', 'release', '-p', 'version=3.0.0', '--non-interactive', '--yes', 'all').code).toBe(1);
    expect(spawnSync('git', ['rev-parse', '-q', '--verify', 'refs/tags/v3.0.0'], { cwd: own.dir }).status).toBe(0);
    // 4.0.0 waits; someone tags v4.0.0 by hand, outside the cockpit.
    expect(runHere('run', 'release', '-p', 'version=4.0.0', '--non-interactive').code).toBe(1);
    git('tag', '-a', 'v4.0.0', '-m', 'by hand');
  });
  afterAll(async () => {
    await closeStores();
    own.cleanup();
  });

  it('a release whose own tag step made the tag is not superseded; one whose version was tagged by hand is, by no session', async () => {
    const services = workspaceServices(new Workspace({ repo: own.dir }), () => undefined);
    const rows = await services.sessions();
    const byVersion = (v: string) => rows.find((r) => r.params === `version=${v}`)!;
    expect(byVersion('3.0.0').status).toMatch(/failed/);
    expect(byVersion('3.0.0').superseded).toBeUndefined();
    expect(byVersion('4.0.0').superseded).toEqual({ version: '4.0.0', tag: 'v4.0.0', by: null });
    expect(supersededWords(byVersion('4.0.0').superseded!, Date.now())).toBe('superseded: v4.0.0 was tagged outside the cockpit');
    // audit list says the same.
    const listed = cockpit(['--repo', own.dir, 'audit', 'list'], { env: GIT_ENV }).stdout.split('\n');
    expect(listed.find((l) => l.includes('version=4.0.0'))).toContain('superseded (v4.0.0 tagged outside the cockpit)');
    expect(listed.find((l) => l.includes('version=3.0.0'))).toContain('failed (resumable)');
  });
});
