import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  branchExists,
  commitsBetween,
  conflictedFiles,
  currentBranch,
  git,
  GitError,
  gitReader,
  isAncestor,
  isRepo,
  lastRelease,
  mergeInProgress,
  probeRemote,
  releaseTags,
  remoteUrl,
  revParse,
  statusFiles,
  tagCommit,
} from '../../src/adapters/git.js';

// The read-only git queries on real repositories (temp dirs, a bare origin). Identity comes from the environment;
// no global or system git config is read or written, here or by the adapter under test.

const ISOLATE = { GIT_CONFIG_GLOBAL: os.devNull, GIT_CONFIG_NOSYSTEM: '1' };
const IDENTITY = {
  GIT_AUTHOR_NAME: 'Ada Dev',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Dev',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};
const ESC = '\x1b';

let tmp: string;
let work: string;
let origin: string;
const saved: Record<string, string | undefined> = {};
const sha: Record<string, string> = {};
let clock = 1_700_000_000;

function g(cwd: string, args: string[], input?: string, env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    input,
    encoding: 'utf8',
    env: { ...process.env, ...ISOLATE, ...IDENTITY, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Commit one file change with this exact message (verbatim: no cleanup) at the next fake second. */
function commit(cwd: string, file: string, content: string, message: string): string {
  mkdirSync(path.dirname(path.join(cwd, file)), { recursive: true });
  writeFileSync(path.join(cwd, file), content);
  g(cwd, ['add', '--', file]);
  const date = `@${++clock} +0000`;
  g(cwd, ['commit', '-q', '--cleanup=verbatim', '-F', '-'], message, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  return g(cwd, ['rev-parse', 'HEAD']).trim();
}

function clone(name: string): string {
  const dir = path.join(tmp, name);
  g(tmp, ['clone', '-q', work, dir]);
  return dir;
}

const WEIRD_MESSAGE = `fix(parser): survive ${ESC}[31mred${ESC}[0m and separators\n\nA body with %H %x00 %n literally, a tab\there,\nfield seps \x1f\x1e|\x01\x7f, "quotes" and 'single', --- and ===\n\n\nthree blank lines above, CR here\r\nunicode ✔ café 日本語\n\nRefs: #42\n`;

beforeAll(() => {
  for (const k of Object.keys(ISOLATE)) saved[k] = process.env[k];
  Object.assign(process.env, ISOLATE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-git-adapter-'));
  origin = path.join(tmp, 'origin.git');
  work = path.join(tmp, 'work');
  g(tmp, ['init', '-q', '--bare', '-b', 'main', origin]);
  g(tmp, ['init', '-q', '-b', 'main', work]);
  g(work, ['remote', 'add', 'origin', origin]);

  sha.c1 = commit(work, 'a.txt', 'one\n', 'feat: first\n');
  g(work, ['tag', '-a', 'v1.9.0', '-m', 'Release 1.9.0']);
  g(work, ['tag', 'v1.2']); // not semver
  sha.c2 = commit(work, 'b.txt', 'two\n', WEIRD_MESSAGE);
  g(work, ['tag', 'v1.10.0']); // lightweight
  g(work, ['tag', 'not-a-version']);
  g(work, ['branch', 'feature']);
  g(work, ['switch', '-q', 'feature']);
  sha.c3 = commit(work, 'feature.txt', 'f\n', 'feat: on a branch\n\nwith a body\n');
  g(work, ['switch', '-q', 'main']);
  sha.c4 = commit(work, 'a.txt', 'one\nmore\n', 'docs: main moves on\n');
  g(work, ['merge', '-q', '--no-ff', '-m', "Merge branch 'feature'", 'feature'], undefined, {
    GIT_AUTHOR_DATE: `@${++clock} +0000`,
    GIT_COMMITTER_DATE: `@${clock} +0000`,
  });
  sha.merge = g(work, ['rev-parse', 'HEAD']).trim();
  g(work, ['tag', '-a', 'v2.0.0-rc.1', '-m', 'rc']);
  g(work, ['tag', '-a', 'release-candidate', '-m', 'not semver either']);
  // A tag on a commit main does not contain.
  g(work, ['switch', '-q', '-c', 'side', sha.c1]);
  sha.side = commit(work, 'side.txt', 's\n', 'feat: side\n');
  g(work, ['tag', '-a', 'v3.0.0', '-m', 'side release']);
  g(work, ['switch', '-q', 'main']);
  g(work, ['push', '-q', 'origin', 'main', 'feature', '--tags']);
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('git()', () => {
  it('returns stdout, and throws a GitError naming the command and git’s first stderr line', async () => {
    expect((await git({ cwd: work }, ['rev-parse', 'HEAD'])).trim()).toBe(sha.merge);
    const e = await git({ cwd: work }, ['rev-parse', '--verify', 'nope']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitError);
    expect((e as GitError).message).toBe('git rev-parse --verify nope: fatal: Needed a single revision');
    expect((e as GitError).args).toEqual(['rev-parse', '--verify', 'nope']);
    expect((e as GitError).code).toBe(128);
    expect((e as GitError).stderr).toContain('Needed a single revision');
  });

  it('runs with the non-interactive environment, which `env` cannot override, and without a terminal', async () => {
    const out = await git({ cwd: work, env: { GIT_TERMINAL_PROMPT: '1', MY_VAR: 'mine' } }, [
      '-c',
      'alias.showenv=!env; tty || true',
      'showenv',
    ]);
    const env = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'never',
      GIT_ASKPASS: 'true',
      SSH_ASKPASS: 'true',
      GIT_EDITOR: 'true',
      LC_ALL: 'C',
      MY_VAR: 'mine',
    });
    expect(out).toContain('not a tty');
  });

  it('gives git stdin at end of file: a program it starts that reads stdin (a helper, an alias) does not wait on it', async () => {
    const t0 = Date.now();
    const out = await git({ cwd: work, timeoutMs: 5000 }, ['-c', 'alias.readstdin=!cat; echo read-to-end', 'readstdin']);
    expect(out).toBe('read-to-end\n');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('runs git in a session of its own, so git, ssh or a helper has no controlling terminal to prompt on', async () => {
    const out = await git({ cwd: work }, ['-c', 'alias.session=!cut -d" " -f6 /proc/$$/stat', 'session']);
    expect(Number(out.trim())).toBeGreaterThan(0);
    expect(Number(out.trim())).not.toBe(sessionOf(process.pid));
  });

  it('ignores a GIT_DIR inherited from the environment (as in a git hook): the cwd names the repository', async () => {
    const other = clone('other-for-git-dir');
    g(other, ['switch', '-q', '-c', 'elsewhere']);
    const before = process.env.GIT_DIR;
    process.env.GIT_DIR = path.join(other, '.git');
    try {
      expect(await currentBranch(work)).toBe('main');
    } finally {
      if (before === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = before;
    }
  });

  it('a missing directory is a GitError, not a crash', async () => {
    const e = await git({ cwd: path.join(tmp, 'nowhere') }, ['status']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitError);
    expect((e as GitError).message).toBe(`git status: could not run git (no such directory ${path.join(tmp, 'nowhere')})`);
  });
});

describe('the repository', () => {
  it('isRepo', async () => {
    expect(await isRepo(work)).toBe(true);
    expect(await isRepo(path.join(work, 'nested-not-made'))).toBe(false);
    const plain = mkdtempSync(path.join(tmp, 'plain-'));
    expect(await isRepo(plain)).toBe(false);
    expect(await isRepo(origin)).toBe(false); // bare: no work tree
  });

  it('currentBranch, and null when HEAD is detached', async () => {
    expect(await currentBranch(work)).toBe('main');
    const d = clone('detached');
    g(d, ['checkout', '-q', '--detach', 'HEAD~1']);
    expect(await currentBranch(d)).toBeNull();
    expect(await revParse(d, 'HEAD')).toBe(sha.c4);
    expect(await statusFiles(d)).toEqual({ tracked: [], untracked: [] });
  });

  it('revParse gives the full sha of the commit (tags peeled), null when there is none', async () => {
    expect(await revParse(work, 'HEAD')).toBe(sha.merge);
    expect(await revParse(work, 'main')).toBe(sha.merge);
    expect(await revParse(work, 'feature')).toBe(sha.c3);
    expect(await revParse(work, 'HEAD^2')).toBe(sha.c3);
    expect(await revParse(work, 'v1.9.0')).toBe(sha.c1); // annotated: the commit, not the tag object
    expect(await revParse(work, sha.c2.slice(0, 10))).toBe(sha.c2);
    expect(await revParse(work, 'nope')).toBeNull();
    expect(await revParse(work, 'HEAD~99')).toBeNull();
    expect(await revParse(work, '--all')).toBeNull();
    expect(await revParse(work, 'HEAD^{tree}')).toBeNull();
  });

  it('branchExists looks at local branches only', async () => {
    expect(await branchExists(work, 'main')).toBe(true);
    expect(await branchExists(work, 'feature')).toBe(true);
    expect(await branchExists(work, 'v1.9.0')).toBe(false);
    expect(await branchExists(work, 'origin/main')).toBe(false);
    expect(await branchExists(work, 'nope')).toBe(false);
  });

  it('tagCommit peels annotated tags and reads lightweight ones', async () => {
    expect(await tagCommit(work, 'v1.9.0')).toBe(sha.c1);
    expect(await tagCommit(work, 'v1.10.0')).toBe(sha.c2);
    expect(await tagCommit(work, 'v2.0.0-rc.1')).toBe(sha.merge);
    expect(await tagCommit(work, 'main')).toBeNull();
    expect(await tagCommit(work, 'v9.9.9')).toBeNull();
  });

  it('isAncestor, and a GitError for a ref that does not exist', async () => {
    expect(await isAncestor(work, sha.c1, sha.merge)).toBe(true);
    expect(await isAncestor(work, 'refs/heads/feature', 'refs/heads/main')).toBe(true);
    expect(await isAncestor(work, sha.merge, sha.merge)).toBe(true);
    expect(await isAncestor(work, sha.merge, sha.c1)).toBe(false);
    expect(await isAncestor(work, 'side', 'main')).toBe(false);
    await expect(isAncestor(work, 'nope', 'main')).rejects.toBeInstanceOf(GitError);
    await expect(isAncestor(work, '--help', 'main')).rejects.toThrow(/may not start with "-"/);
  });

  it('statusFiles: modified, staged, renamed and deleted are tracked; untracked are apart; ignored are not listed', async () => {
    const d = clone('dirty');
    writeFileSync(path.join(d, '.gitignore'), 'ignored.log\n');
    g(d, ['add', '.gitignore']);
    g(d, ['commit', '-q', '-m', 'chore: ignore'], undefined, {
      GIT_AUTHOR_DATE: `@${++clock} +0000`,
      GIT_COMMITTER_DATE: `@${clock} +0000`,
    });
    writeFileSync(path.join(d, 'a.txt'), 'changed\n'); // modified, not staged
    writeFileSync(path.join(d, 'staged new.txt'), 'new\n');
    g(d, ['add', 'staged new.txt']); // staged, with a space
    g(d, ['mv', 'b.txt', 'b-renamed.txt']); // renamed
    rmSync(path.join(d, 'feature.txt')); // deleted
    writeFileSync(path.join(d, 'untracked.txt'), 'u\n');
    writeFileSync(path.join(d, 'line\nbreak.txt'), 'u\n'); // a newline in a name: -z keeps it whole
    mkdirSync(path.join(d, 'newdir'));
    writeFileSync(path.join(d, 'newdir', 'x.txt'), 'x\n');
    writeFileSync(path.join(d, 'ignored.log'), 'i\n');
    const s = await statusFiles(d);
    expect([...s.tracked].sort()).toEqual(['a.txt', 'b-renamed.txt', 'feature.txt', 'staged new.txt']);
    expect([...s.untracked].sort()).toEqual(['line\nbreak.txt', 'newdir/', 'untracked.txt']);
    expect(await statusFiles(work)).toEqual({ tracked: [], untracked: [] });
  });

  it('a conflicting merge left in progress: conflictedFiles and mergeInProgress, then after --abort', async () => {
    const d = clone('conflict');
    expect(await mergeInProgress(d)).toBe(false);
    expect(await conflictedFiles(d)).toEqual([]);
    g(d, ['switch', '-q', '-c', 'theirs']);
    commit(d, 'a.txt', 'theirs\n', 'fix: theirs\n');
    commit(d, 'clean.txt', 'no conflict\n', 'feat: clean\n');
    g(d, ['switch', '-q', 'main']);
    commit(d, 'a.txt', 'ours\n', 'fix: ours\n');
    expect(() => g(d, ['merge', '--no-edit', 'theirs'])).toThrow();
    expect(await mergeInProgress(d)).toBe(true);
    expect(await conflictedFiles(d)).toEqual(['a.txt']);
    expect((await statusFiles(d)).tracked.sort()).toEqual(['a.txt', 'clean.txt']);
    g(d, ['merge', '--abort']);
    expect(await mergeInProgress(d)).toBe(false);
    expect(await conflictedFiles(d)).toEqual([]);
  });
});

describe('releases', () => {
  it('releaseTags: vX.Y.Z reachable from HEAD, highest first (v1.10.0 above v1.9.0), other tags ignored', async () => {
    expect(await releaseTags(work)).toEqual([
      { tag: 'v2.0.0-rc.1', version: '2.0.0-rc.1', commit: sha.merge },
      { tag: 'v1.10.0', version: '1.10.0', commit: sha.c2 },
      { tag: 'v1.9.0', version: '1.9.0', commit: sha.c1 },
    ]);
  });

  it('releaseTags from another ref', async () => {
    expect((await releaseTags(work, 'side')).map((t) => t.tag)).toEqual(['v3.0.0', 'v1.9.0']);
    expect((await releaseTags(work, 'v1.10.0')).map((t) => t.tag)).toEqual(['v1.10.0', 'v1.9.0']);
    await expect(releaseTags(work, 'nope')).rejects.toThrow(/'nope' does not name a commit/);
  });

  it('lastRelease skips pre-releases; null with no release tag; an unborn repository has none', async () => {
    expect(await lastRelease(work)).toEqual({ tag: 'v1.10.0', version: '1.10.0', commit: sha.c2 });
    expect(await lastRelease(work, 'side')).toEqual({ tag: 'v3.0.0', version: '3.0.0', commit: sha.side });
    expect(await lastRelease(work, sha.c1)).toEqual({ tag: 'v1.9.0', version: '1.9.0', commit: sha.c1 });
    const fresh = path.join(tmp, 'fresh');
    g(tmp, ['init', '-q', '-b', 'main', fresh]);
    expect(await releaseTags(fresh)).toEqual([]);
    expect(await lastRelease(fresh)).toBeNull();
    expect(await currentBranch(fresh)).toBe('main'); // unborn, still on a branch
    commit(fresh, 'x', 'x', 'chore: init\n');
    g(fresh, ['tag', 'latest']);
    expect(await lastRelease(fresh)).toBeNull();
  });

  it('commitsBetween: newest first, merges with both parents, every field', async () => {
    const all = await commitsBetween(work, null, 'HEAD');
    expect(all.map((c) => c.hash)).toEqual([sha.merge, sha.c4, sha.c3, sha.c2, sha.c1]);
    expect(all[0].parents).toEqual([sha.c4, sha.c3]);
    expect(all[0].message).toBe("Merge branch 'feature'\n");
    expect(all[4]).toEqual({
      hash: sha.c1,
      parents: [],
      authorName: 'Ada Dev',
      authorEmail: 'ada@example.com',
      date: 1_700_000_001_000,
      message: 'feat: first\n',
    });
    expect(all[2].parents).toEqual([sha.c2]);
    expect(all[2].message).toBe('feat: on a branch\n\nwith a body\n');
  });

  it('commitsBetween from a tag (annotated or not), and an empty range', async () => {
    expect((await commitsBetween(work, 'v1.10.0', 'HEAD')).map((c) => c.hash)).toEqual([sha.merge, sha.c4, sha.c3]);
    expect((await commitsBetween(work, 'v1.9.0', 'v1.10.0')).map((c) => c.hash)).toEqual([sha.c2]);
    expect(await commitsBetween(work, 'HEAD', 'HEAD')).toEqual([]);
    expect(await commitsBetween(work, 'main', 'feature')).toEqual([]);
    await expect(commitsBetween(work, 'nope', 'HEAD')).rejects.toBeInstanceOf(GitError);
    await expect(commitsBetween(work, null, '--all')).rejects.toThrow(/may not start with "-"/);
  });

  it('a message with newlines, blank lines, separators, CR, ESC and unicode comes back byte for byte', async () => {
    const [c] = await commitsBetween(work, 'v1.9.0', 'v1.10.0');
    expect(c.message).toBe(WEIRD_MESSAGE);
    expect(c.message).toContain(`${ESC}[31m`);
  });

  it('a message with a NUL in it (written with hash-object --literally) is not cut there', async () => {
    const d = clone('nul');
    const tree = g(d, ['rev-parse', 'HEAD^{tree}']).trim();
    const head = g(d, ['rev-parse', 'HEAD']).trim();
    const raw = `tree ${tree}\nparent ${head}\nauthor Nul Person <nul@example.com> 1700000500 +0200\ncommitter Nul Person <nul@example.com> 1700000500 +0200\n\nfix: before\u0000after\n\nbody\n`;
    const nul = g(d, ['hash-object', '-t', 'commit', '-w', '--literally', '--stdin'], raw).trim();
    g(d, ['update-ref', 'refs/heads/nul', nul]);
    const [c] = await commitsBetween(d, 'HEAD', 'nul');
    expect(c).toEqual({
      hash: nul,
      parents: [head],
      authorName: 'Nul Person',
      authorEmail: 'nul@example.com',
      date: 1_700_000_500_000,
      message: 'fix: before\u0000after\n\nbody\n',
    });
  });

  it('a message in another encoding (encoding header) is decoded to text', async () => {
    const d = clone('latin1');
    writeFileSync(path.join(d, 'msg'), Buffer.from('feat: caf\xe9 na\xefve\n', 'latin1'));
    writeFileSync(path.join(d, 'l.txt'), 'l\n');
    g(d, ['add', 'l.txt']);
    g(d, ['-c', 'i18n.commitEncoding=ISO-8859-1', 'commit', '-q', '-F', 'msg'], undefined, { GIT_AUTHOR_NAME: 'Jos\xe9' });
    const [c] = await commitsBetween(d, 'HEAD~1', 'HEAD');
    expect(c.message).toBe('feat: café naïve\n');
  });
});

/** The session id of a process (Linux /proc). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** Is the process there and not a zombie? */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('remotes', () => {
  it('remoteUrl, and null for a remote that is not there', async () => {
    expect(await remoteUrl(work, 'origin')).toBe(origin);
    expect(await remoteUrl(work, 'nope')).toBeNull();
  });

  it('probeRemote on a reachable bare origin: heads, and tags peeled to their commits', async () => {
    const r = await probeRemote(work, 'origin');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.refs.get('refs/heads/main')).toBe(sha.merge);
    expect(r.refs.get('refs/heads/feature')).toBe(sha.c3);
    expect(r.refs.get('refs/tags/v1.9.0')).toBe(sha.c1); // annotated: peeled
    expect(r.refs.get('refs/tags/v2.0.0-rc.1')).toBe(sha.merge);
    expect(r.refs.get('refs/tags/v1.10.0')).toBe(sha.c2); // lightweight
    expect(r.refs.get('refs/tags/v3.0.0')).toBe(sha.side);
    expect([...r.refs.keys()].some((k) => k.endsWith('^{}') || k === 'HEAD')).toBe(false);
    expect(r.refs.has('refs/heads/side')).toBe(false); // never pushed
    expect(await gitReader(work).probeRemote('origin')).toEqual(r);
  });

  it('probeRemote on a path that does not exist says the repository is not found', async () => {
    const d = clone('gone-remote');
    g(d, ['remote', 'add', 'gone', path.join(tmp, 'does-not-exist.git')]);
    const r = await probeRemote(d, 'gone');
    expect(r).toEqual({ ok: false, why: expect.stringMatching(/^gone \(.*does-not-exist\.git\): repository not found .*check the URL/) });
    const direct = await probeRemote(d, path.join(tmp, 'also-missing.git'));
    expect(direct).toEqual({ ok: false, why: expect.stringContaining('repository not found') });
  });

  it('probeRemote on a remote name that is not configured, or outside a repository', async () => {
    expect(await probeRemote(work, 'upstream')).toEqual({
      ok: false,
      why: expect.stringMatching(/^there is no remote named 'upstream'.*git remote add upstream <url>/),
    });
    const plain = mkdtempSync(path.join(tmp, 'not-a-repo-'));
    expect(await probeRemote(plain, 'origin')).toEqual({
      ok: false,
      why: expect.stringMatching(/^cannot read the remotes of .*not-a-repo-.*: fatal: not a git repository/),
    });
  });

  it('an http remote on a closed port fails fast, without prompting or hanging', async () => {
    const d = clone('closed-port');
    const url = `http://127.0.0.1:${await closedPort()}/x.git`;
    g(d, ['remote', 'add', 'web', url]);
    const t0 = Date.now();
    const r = await probeRemote(d, 'web', 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toEqual({
      ok: false,
      why: expect.stringMatching(/^cannot connect to web \(http:\/\/127\.0\.0\.1:\d+\/x\.git\).*check the URL, the network/),
    });
  });

  it('a remote that asks for credentials fails fast with how to set them up (no prompt); a password in its URL is not shown', async () => {
    let asked = 0;
    const server = http.createServer((req, res) => {
      asked++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('auth required');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const d = clone('auth');
      g(d, ['remote', 'add', 'private', `http://127.0.0.1:${port}/private.git`]);
      g(d, ['remote', 'add', 'withpass', `http://bot:s3cret@127.0.0.1:${port}/private.git`]);
      const t0 = Date.now();
      const r = await probeRemote(d, 'private', 5000);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(asked).toBeGreaterThan(0);
      expect(r).toEqual({
        ok: false,
        why: expect.stringMatching(
          /^private \(http:.*\) needs credentials and the cockpit cannot prompt for them.*set up an SSH key .* or a credential helper/,
        ),
      });
      const p = await probeRemote(d, 'withpass', 5000);
      expect(p.ok).toBe(false);
      expect(!p.ok && p.why).toContain('bot:***@127.0.0.1');
      expect(!p.ok && p.why).not.toContain('s3cret');
    } finally {
      server.close();
    }
  });

  it('a remote that never answers is given up on at the timeout', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never says anything
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const t0 = Date.now();
      const r = await probeRemote(work, `http://127.0.0.1:${port}/slow.git`, 1500);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(4000);
      expect(r).toEqual({ ok: false, why: expect.stringMatching(/did not answer within 1\.5 s: check the network/) });
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
  it('at the timeout the whole process group is killed: the ssh git started, and what that ssh started, are gone too', async () => {
    const d = clone('ssh-hang');
    const pids = path.join(tmp, 'ssh-hang-pids');
    const fakeSsh = path.join(tmp, 'ssh-that-hangs');
    // An ssh that never answers and has a child of its own (as a ProxyCommand would); a background job of a
    // non-interactive shell ignores SIGINT, so only a kill of the whole group reaches it.
    writeFileSync(fakeSsh, `#!/bin/sh\necho $$ >> '${pids}'\nsleep 300 &\necho $! >> '${pids}'\nwait\n`, { mode: 0o755 });
    g(d, ['config', 'core.sshCommand', fakeSsh]);
    g(d, ['remote', 'add', 'hang', 'ssh://git@example.invalid/x.git']);
    let started: number[] = [];
    try {
      const t0 = Date.now();
      const r = await probeRemote(d, 'hang', 1500);
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(r).toEqual({ ok: false, why: expect.stringMatching(/did not answer within 1\.5 s/) });
      await new Promise((res) => setTimeout(res, 300));
      started = readFileSync(pids, 'utf8').split('\n').filter(Boolean).map(Number);
      expect(started).toHaveLength(2);
      expect(started.filter(running)).toEqual([]);
    } finally {
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
});
