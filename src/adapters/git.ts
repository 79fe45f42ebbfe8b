/**
 * Read-only git queries (what a pre-flight, a probe or a dry run needs to know about the repository and its remote).
 * Nothing here writes to the repository: writes (branch, merge, tag, push, commit) are commands a step runs through
 * the engine's recorded runner, so their output, pid and exit code land in the audit log.
 *
 * Why child_process and not simple-git (or another wrapper): every git call must
 *  - carry the cockpit's non-interactive environment (GIT_TERMINAL_PROMPT=0, askpass helpers that answer nothing,
 *    GCM_INTERACTIVE=never, GIT_EDITOR=true, LC_ALL=C so the messages we classify are in English) and run in its
 *    own session with no controlling terminal and stdin closed, so neither git, a credential helper nor ssh can
 *    open /dev/tty and wait for an answer that will never come (F2);
 *  - have a timeout that kills the whole process group (git-remote-https, ssh), and return when the timeout
 *    fires even if a helper still holds a pipe open;
 *  - be parsed NUL-safely from raw bytes (`-z`, `%00`, `cat-file --batch` sizes), never by splitting decoded text
 *    on newlines or on separators that a commit message may contain.
 * A wrapper would hide (or re-implement differently) each of these; a spawn with these options is a few lines.
 * docs/git-adapter.md says what simple-git 3.36.0 did on each point, and which tests show it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import semver from 'semver';
import { NON_INTERACTIVE_ENV } from './shell.js';
import type { RawCommit } from '../core/release/commits.js';
import { FailedError } from '../core/errors.js';

export class GitError extends FailedError {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd: string;
  /** Default 15 s. The whole process group is killed when it passes. */
  timeoutMs?: number;
  /** Extra environment (after process.env; the non-interactive settings always win). */
  env?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const PROBE_TIMEOUT_MS = 10_000;
/** Output larger than this is refused rather than held in memory. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Variables that point git at another repository or index (set, for instance, when the cockpit is started from a
 * git hook). A query names its repository by cwd, so these are dropped unless `env` sets them on purpose.
 */
const REPO_LOCAL_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_PREFIX',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_NAMESPACE',
  'GIT_SHALLOW_FILE',
  'GIT_GRAFT_FILE',
];

/**
 * The environment of every git query: process.env (minus the repo-pointing variables above), then `extra`, then
 * the cockpit's NON_INTERACTIVE_ENV and git's own no-prompt settings, which nothing can override.
 *
 * GIT_ASKPASS / SSH_ASKPASS are kept set to `true` (from NON_INTERACTIVE_ENV), not unset: an askpass that answers
 * an empty string makes authentication fail at once, whereas an unset one lets git and ssh fall back to asking on
 * the terminal. SSH_ASKPASS_REQUIRE=force makes ssh use it even without DISPLAY (so a passphrase or an unknown
 * host key fails instead of prompting); ssh keys in an agent still work.
 */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !REPO_LOCAL_ENV.includes(k)) env[k] = v;
  return {
    ...env,
    ...extra,
    ...NON_INTERACTIVE_ENV,
    SSH_ASKPASS_REQUIRE: 'force',
    GIT_EDITOR: 'true',
    GIT_SEQUENCE_EDITOR: 'true',
    GIT_MERGE_AUTOEDIT: 'no',
    GIT_PAGER: 'cat',
    // A query must not take the index lock (git status refreshes the index): it would make a concurrent write fail.
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
  };
}

interface Raw {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  timedOut: boolean;
  spawnError?: string;
}

/** Detached git processes still running, killed if the cockpit exits first (they are not in its process group). */
const live = new Set<number>();
let exitHookInstalled = false;
function track(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of live) killGroup(p);
    });
  }
  live.add(pid);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Run git once: stdin closed (or fed `input`), no controlling terminal, output kept as bytes. Never rejects. */
function exec(opts: GitOptions, args: string[], input?: string): Promise<Raw> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve) => {
    let settled = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let tooBig = false;
    let child: ReturnType<typeof spawn>;
    const done = (r: Omit<Raw, 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child?.pid) live.delete(child.pid);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ stdout: Buffer.concat(out), stderr: tooBig ? `output larger than ${MAX_OUTPUT_BYTES} bytes\n${stderr}` : stderr, ...r });
    };
    const timer = setTimeout(() => {
      if (child?.pid) killGroup(child.pid);
      // Do not wait for the pipes: a helper that ignores the kill (or a grandchild) may keep them open.
      done({ code: null, timedOut: true });
    }, timeoutMs);
    try {
      child = spawn('git', args, {
        cwd: opts.cwd,
        env: gitEnv(opts.env),
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        // setsid(): its own session and process group, with no controlling terminal to prompt on.
        detached: true,
      });
    } catch (e) {
      done({ code: null, timedOut: false, spawnError: (e as Error).message });
      return;
    }
    if (child.pid) track(child.pid);
    child.stdout!.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > MAX_OUTPUT_BYTES) {
        tooBig = true;
        if (child.pid) killGroup(child.pid);
        return;
      }
      out.push(b);
    });
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => done({ code: null, timedOut: false, spawnError: e.message }));
    child.on('close', (code) => done({ code: tooBig ? null : code, timedOut: false }));
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // git may exit before reading all of it; the exit code tells.
      child.stdin!.end(input);
    }
  });
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  );
}

function toError(opts: GitOptions, args: string[], r: Raw): GitError {
  const what = `git ${args.join(' ')}`;
  if (r.spawnError) {
    // spawn reports a missing cwd as "spawn git ENOENT", like a missing git: say which it is.
    const why = !existsSync(opts.cwd)
      ? `no such directory ${opts.cwd}`
      : /ENOENT/.test(r.spawnError)
        ? 'git is not installed or not on PATH'
        : r.spawnError;
    return new GitError(`${what}: could not run git (${why})`, args, r.stderr, null);
  }
  if (r.timedOut) return new GitError(`${what}: timed out after ${(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`, args, r.stderr, null);
  return new GitError(`${what}: ${firstLine(r.stderr) || `exited with code ${r.code}`}`, args, r.stderr, r.code);
}

/** Run git; exit codes in `ok` are returned (with the output), anything else throws a GitError. */
async function run(opts: GitOptions, args: string[], ok: number[] = [0], input?: string): Promise<{ code: number; stdout: Buffer }> {
  const r = await exec(opts, args, input);
  if (r.code === null || !ok.includes(r.code)) throw toError(opts, args, r);
  return { code: r.code, stdout: r.stdout };
}

/** git's stdout as UTF-8 text. Throws a GitError ("git <args>: <first stderr line>") on a non-zero exit, a timeout, or no git. */
export async function git(opts: GitOptions, args: string[]): Promise<string> {
  return (await run(opts, args)).stdout.toString('utf8');
}

/** git with `input` on its stdin; exit codes in `ok` are returned with the output, anything else throws a GitError. */
export async function gitIn(
  opts: GitOptions,
  args: string[],
  input: string,
  ok: number[] = [0],
): Promise<{ code: number; stdout: string }> {
  const r = await run(opts, args, ok, input);
  return { code: r.code, stdout: r.stdout.toString('utf8') };
}

/** git without throwing: the exit code (null: not run, or timed out), stdout and stderr. */
export async function gitTry(opts: GitOptions, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await exec(opts, args);
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

/** A ref or revision given as an argument must not be read as an option (`--output=…`). */
function optionLike(arg: string): boolean {
  return arg.startsWith('-');
}

function badArg(args: string[], what: string): GitError {
  return new GitError(`git ${args.join(' ')}: ${what}`, args, '', null);
}

/** NUL-terminated fields of -z output. */
function nulFields(b: Buffer): string[] {
  const s = b.toString('utf8');
  const parts = s.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

// ---------------------------------------------------------------------------------------------------------------
// The repository

/** Is `cwd` inside a git work tree? False also when cwd does not exist or git is missing. */
export async function isRepo(cwd: string): Promise<boolean> {
  const r = await exec({ cwd }, ['rev-parse', '--is-inside-work-tree']);
  return r.code === 0 && r.stdout.toString('utf8').trim() === 'true';
}

/** The checked-out branch (short name, also on an unborn branch), or null when HEAD is detached. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const { code, stdout } = await run({ cwd }, ['symbolic-ref', '--quiet', 'HEAD'], [0, 1]);
  if (code !== 0) return null;
  const ref = stdout.toString('utf8').trim();
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

/**
 * The full sha of the commit `ref` names, or null when it does not exist (never throws for that).
 * Tags are peeled: for `v1.2.3` (annotated or not) this is the tagged commit, the same sha tagCommit gives, so the
 * two can be compared. A ref naming something that is not a commit (a tree, a blob) also gives null.
 */
export async function revParse(cwd: string, ref: string): Promise<string | null> {
  if (!ref || optionLike(ref)) return null;
  const { code, stdout } = await run({ cwd }, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], [0, 1]);
  return code === 0 ? stdout.toString('utf8').trim() || null : null;
}

/** The text of `file` (relative to the repository's top) in the tree of `ref`; null when the ref or the file is not there. */
export async function fileAt(cwd: string, ref: string, file: string): Promise<string | null> {
  if (!ref || optionLike(ref) || !file || file.includes('\0')) return null;
  const { code, stdout } = await run({ cwd }, ['cat-file', 'blob', `${ref}:${file.replace(/^\.\//, '')}`], [0, 128]);
  return code === 0 ? stdout.toString('utf8') : null;
}

/**
 * Who git would write commits and tags as: `git var` answers as `git commit` would (config, GIT_* variables, the
 * EMAIL fallback and user.useConfigOnly), so a machine without a usable identity is found before anything is written.
 */
export async function identity(cwd: string): Promise<{ ok: true; ident: string } | { ok: false; why: string }> {
  for (const v of ['GIT_AUTHOR_IDENT', 'GIT_COMMITTER_IDENT']) {
    const r = await exec({ cwd }, ['var', v]);
    if (r.code !== 0) {
      const why =
        r.stderr.split('\n').find((l) => /identity|email|name/i.test(l)) ?? r.stderr.trim().split('\n')[0] ?? `git var ${v} failed`;
      return { ok: false, why: why.replace(/^fatal:\s*/, '') };
    }
    if (v === 'GIT_COMMITTER_IDENT')
      return {
        ok: true,
        ident: r.stdout
          .toString('utf8')
          .replace(/\s+\d+ [+-]\d{4}\s*$/, '')
          .trim(),
      };
  }
  return { ok: false, why: 'git var gave no identity' };
}

/** Is there a local branch `name` (refs/heads/<name>)? */
export async function branchExists(cwd: string, name: string): Promise<boolean> {
  if (!name || optionLike(name)) return false;
  const { code } = await run({ cwd }, ['show-ref', '--verify', '--quiet', `refs/heads/${name}`], [0, 1]);
  return code === 0;
}

/** The commit the tag points to (annotated tags peeled), or null when there is no such tag (or it tags no commit). */
export async function tagCommit(cwd: string, tag: string): Promise<string | null> {
  if (!tag || optionLike(tag)) return null;
  const { code, stdout } = await run({ cwd }, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], [0, 1]);
  return code === 0 ? stdout.toString('utf8').trim() || null : null;
}

/** Is commit `a` an ancestor of `b` (or the same)? Throws a GitError when either does not exist. */
export async function isAncestor(cwd: string, a: string, b: string): Promise<boolean> {
  const args = ['merge-base', '--is-ancestor', a, b];
  if (optionLike(a) || optionLike(b)) throw badArg(args, 'a revision may not start with "-"');
  const { code } = await run({ cwd }, args, [0, 1]);
  return code === 0;
}

/** The best common ancestor of two revisions, or null when they share no history. */
export async function mergeBase(cwd: string, a: string, b: string): Promise<string | null> {
  const args = ['merge-base', a, b];
  if (optionLike(a) || optionLike(b)) throw badArg(args, 'a revision may not start with "-"');
  const { code, stdout } = await run({ cwd }, args, [0, 1]);
  return code === 0 ? stdout.toString('utf8').trim() || null : null;
}

/**
 * Changes in the work tree, for a "the tree is not clean" pre-flight:
 * `tracked`: files modified, staged, deleted, renamed (the new path) or in conflict;
 * `untracked`: files git does not know and does not ignore (an untracked folder is listed once, as `dir/`).
 */
export async function statusFiles(cwd: string): Promise<{ tracked: string[]; untracked: string[] }> {
  const { stdout } = await run({ cwd }, ['status', '--porcelain=v1', '-z', '--untracked-files=normal']);
  const fields = nulFields(stdout);
  const tracked: string[] = [];
  const untracked: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const xy = f.slice(0, 2);
    const file = f.slice(3);
    if (xy === '??') untracked.push(file);
    else if (xy === '!!') continue;
    else {
      tracked.push(file);
      // A rename or copy is followed by its original path in its own field.
      if (xy[0] === 'R' || xy[0] === 'C' || xy[1] === 'R' || xy[1] === 'C') i++;
    }
  }
  return { tracked, untracked };
}

/** Where a file stands against the commit checked out: in it unchanged, changed since, only staged, or unknown to git. */
export type CommitState = 'committed' | 'modified' | 'staged-only' | 'untracked';

/**
 * The commit state of each of `files` (paths relative to the repository's top, `cwd`): `committed` when HEAD has
 * it and neither the index nor the work tree differ; `modified` when HEAD has it but it changed since (staged or
 * not); `staged-only` when it is added but in no commit; `untracked` when git does not know it (also when ignored).
 */
export async function commitStates(cwd: string, files: string[]): Promise<Map<string, CommitState>> {
  const states = new Map<string, CommitState>();
  if (!files.length) return states;
  // Asked by folder (a migrations folder may hold thousands of files: too many for one command line), then looked up.
  const folders = [...new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '.')))];
  const spec = ['--', ...folders.map((d) => (d === '.' ? ':(top)' : `:(literal)${d}`))];
  const list = async (args: string[], ok = [0]) => {
    const r = await run({ cwd }, [...args, ...spec], ok);
    return r.code === 0 ? new Set(nulFields(r.stdout)) : new Set<string>();
  };
  // An unborn HEAD (no commit yet) has nothing committed: ls-tree exits 128 for it.
  const inHead = await list(['ls-tree', '-r', '-z', '--name-only', '--full-tree', 'HEAD'], [0, 128]);
  const known = await list(['ls-files', '-z', '--full-name']);
  const changed = inHead.size ? await list(['diff', '--name-only', '-z', 'HEAD']) : new Set<string>();
  for (const f of files)
    states.set(f, inHead.has(f) ? (changed.has(f) ? 'modified' : 'committed') : known.has(f) ? 'staged-only' : 'untracked');
  return states;
}

/** Files with unresolved conflicts (after a merge, rebase or cherry-pick that stopped). */
export async function conflictedFiles(cwd: string): Promise<string[]> {
  const { stdout } = await run({ cwd }, ['diff', '--name-only', '--diff-filter=U', '-z']);
  return [...new Set(nulFields(stdout))];
}

/** Is a merge stopped half-way (MERGE_HEAD exists)? */
export async function mergeInProgress(cwd: string): Promise<boolean> {
  const { code } = await run({ cwd }, ['rev-parse', '--quiet', '--verify', 'MERGE_HEAD'], [0, 1]);
  return code === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Releases

export interface ReleaseTag {
  tag: string;
  /** The tag without its `v`. */
  version: string;
  /** The tagged commit (annotated tags peeled). */
  commit: string;
}

/** `v` followed by a valid semantic version (as written: `v1.2.3`, `v2.0.0-rc.1`); anything else is no release tag. */
function versionOfTag(tag: string): string | null {
  if (!/^v\d/.test(tag)) return null;
  const rest = tag.slice(1);
  return semver.valid(rest) !== null ? rest : null;
}

/**
 * Tags `vX.Y.Z` (a valid semantic version after the `v`, pre-releases included; other tags ignored) on commits
 * reachable from `ref` (default HEAD), highest version first. An unborn HEAD gives []; another ref that does not
 * name a commit throws a GitError.
 */
export async function releaseTags(cwd: string, ref = 'HEAD'): Promise<ReleaseTag[]> {
  const at = await revParse(cwd, ref);
  if (!at) {
    if (ref === 'HEAD') return [];
    throw badArg(['for-each-ref', `--merged=${ref}`], `'${ref}' does not name a commit`);
  }
  const { stdout } = await run({ cwd }, [
    'for-each-ref',
    `--merged=${at}`,
    '--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)',
    'refs/tags/',
  ]);
  const out: ReleaseTag[] = [];
  for (const line of stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const [refname, type, sha, peeledType, peeled] = line.split('\0');
    const tag = refname.slice('refs/tags/'.length);
    const version = versionOfTag(tag);
    if (version === null) continue;
    let commit: string | null = null;
    if (type === 'commit') commit = sha;
    else if (type === 'tag' && peeledType === 'commit') commit = peeled;
    else if (type === 'tag') commit = await tagCommit(cwd, tag); // a tag of a tag
    if (commit) out.push({ tag, version, commit });
  }
  return out.sort((a, b) => semver.rcompare(a.version, b.version) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

/** The highest release (not a pre-release: v2.0.0-rc.1 is skipped) reachable from `ref`, or null when there is none. */
export async function lastRelease(cwd: string, ref = 'HEAD'): Promise<ReleaseTag | null> {
  return (await releaseTags(cwd, ref)).find((t) => semver.prerelease(t.version) === null) ?? null;
}

/** One commit as stored (the shape the release notes are made from). */
export type { RawCommit } from '../core/release/commits.js';

function decoderFor(encoding: string | null): TextDecoder {
  if (encoding) {
    try {
      return new TextDecoder(encoding);
    } catch {
      /* a label TextDecoder does not know: read it as UTF-8 */
    }
  }
  return new TextDecoder('utf-8');
}

/** Split an ident line's value "Name <email> 1700000000 +0100" the way git does. */
function ident(value: string): { name: string; email: string; date: number } {
  const lt = value.indexOf('<');
  const gt = lt >= 0 ? value.indexOf('>', lt + 1) : -1;
  if (lt < 0 || gt < 0) return { name: value.trim(), email: '', date: 0 };
  const after = value.slice(value.lastIndexOf('>') + 1).trim();
  const date = Number(/^(\d+)/.exec(after)?.[1] ?? 0);
  return { name: value.slice(0, lt).trim(), email: value.slice(lt + 1, gt), date };
}

/** A commit object's bytes (as `git cat-file` gives them) as a RawCommit. */
function parseCommitObject(hash: string, body: Buffer): RawCommit {
  const split = body.indexOf('\n\n');
  const head = (split < 0 ? body : body.subarray(0, split)).toString('latin1');
  const messageBytes = split < 0 ? Buffer.alloc(0) : body.subarray(split + 2);
  const parents: string[] = [];
  let author: string | null = null;
  let encoding: string | null = null;
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue; // continuation of a multi-line header (gpgsig, mergetag)
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? '' : line.slice(sp + 1);
    if (key === 'parent') parents.push(value);
    else if (key === 'author' && author === null) author = value;
    else if (key === 'encoding') encoding = value;
  }
  const dec = decoderFor(encoding);
  // Headers were read as latin1 (one char per byte): back to bytes, then decoded like the message.
  const who = ident(author === null ? '' : dec.decode(Buffer.from(author, 'latin1')));
  return { hash, parents, authorName: who.name, authorEmail: who.email, date: who.date * 1000, message: dec.decode(messageBytes) };
}

/**
 * Commits in `to` and not in `from` (`git log from..to`; every commit reachable from `to` when `from` is null),
 * NEWEST FIRST (git's default order), merges included.
 *
 * Read with `git rev-list` then `git cat-file --batch`, which gives each commit object with its exact size: a message
 * is returned byte for byte whatever it contains (newlines, separators, control bytes, even a NUL that `git log
 * --format` would cut at), decoded from the commit's `encoding` header (UTF-8 by default).
 */
export async function commitsBetween(cwd: string, from: string | null, to: string): Promise<RawCommit[]> {
  const args = ['rev-list', to, ...(from === null ? [] : [`^${from}`])];
  if (optionLike(to) || (from !== null && optionLike(from))) throw badArg(args, 'a revision may not start with "-"');
  const hashes = (await run({ cwd }, args)).stdout.toString('utf8').split('\n').filter(Boolean);
  if (hashes.length === 0) return [];
  const { stdout } = await run(
    { cwd, timeoutMs: Math.max(DEFAULT_TIMEOUT_MS, hashes.length * 5) },
    ['cat-file', '--batch'],
    [0],
    hashes.join('\n') + '\n',
  );
  const commits: RawCommit[] = [];
  let pos = 0;
  while (pos < stdout.length) {
    const nl = stdout.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = stdout.subarray(pos, nl).toString('latin1');
    const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
    if (!m) throw new GitError(`git cat-file --batch: unexpected output '${header.slice(0, 80)}'`, ['cat-file', '--batch'], '', 0);
    const size = Number(m[3]);
    const body = stdout.subarray(nl + 1, nl + 1 + size);
    pos = nl + 1 + size + 1; // the object, then a newline
    if (m[2] === 'commit') commits.push(parseCommitObject(m[1], body));
  }
  if (commits.length !== hashes.length) {
    throw new GitError(`git cat-file --batch: read ${commits.length} of ${hashes.length} commits`, ['cat-file', '--batch'], '', 0);
  }
  return commits;
}

// ---------------------------------------------------------------------------------------------------------------
// Remotes

/** The URL git uses for `remote` (insteadOf rewrites applied), or null when there is no such remote. */
export async function remoteUrl(cwd: string, remote: string): Promise<string | null> {
  if (!remote || optionLike(remote)) return null;
  const r = await exec({ cwd }, ['remote', 'get-url', remote]);
  if (r.code === 0) return r.stdout.toString('utf8').trim() || null;
  if (r.code === 2 || /no such remote/i.test(r.stderr)) return null;
  throw toError({ cwd }, ['remote', 'get-url', remote], r);
}

/** A URL fit for a message: a password in it is hidden. */
function showUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/**
 * Can the remote be read without prompting? `git ls-remote --heads --tags`, with the non-interactive environment
 * and a short timeout (default 10 s). On success `refs` maps `refs/heads/<branch>` to its sha and `refs/tags/<tag>`
 * to the commit it tags (annotated tags peeled through their `^{}` entries). On failure `why` says what failed and
 * what to do about it.
 */
export async function probeRemote(
  cwd: string,
  remote: string,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<{ ok: true; refs: Map<string, string> } | { ok: false; why: string }> {
  if (!remote || optionLike(remote)) return { ok: false, why: `'${remote}' is not a remote name or URL` };
  let url: string | null = null;
  try {
    url = await remoteUrl(cwd, remote);
  } catch (e) {
    return {
      ok: false,
      why: `cannot read the remotes of ${cwd}: ${(e as GitError).stderr ? firstLine((e as GitError).stderr) : (e as Error).message}`,
    };
  }
  // A bare word that is no configured remote: say that, rather than git's "does not appear to be a git repository".
  if (url === null && /^[\w.-]+$/.test(remote) && remote !== '.' && remote !== '..') {
    return {
      ok: false,
      why: `there is no remote named '${remote}' in ${cwd} (git remote -v lists them; add it with git remote add ${remote} <url>)`,
    };
  }
  const name = url && url !== remote ? `${remote} (${showUrl(url)})` : showUrl(remote);
  const r = await exec({ cwd, timeoutMs }, ['ls-remote', '--heads', '--tags', remote]);
  if (r.code === 0) {
    const refs = new Map<string, string>();
    const peeled = new Map<string, string>();
    for (const line of r.stdout.toString('utf8').split('\n')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const sha = line.slice(0, tab);
      const ref = line.slice(tab + 1);
      if (ref.endsWith('^{}')) peeled.set(ref.slice(0, -3), sha);
      else refs.set(ref, sha);
    }
    for (const [ref, sha] of peeled) refs.set(ref, sha);
    return { ok: true, refs };
  }
  return { ok: false, why: explainRemoteFailure(name, remote, r, timeoutMs) };
}

function explainRemoteFailure(name: string, remote: string, r: Raw, timeoutMs: number): string {
  const check = `check with: git ls-remote ${remote}`;
  if (r.spawnError) return `could not run git to reach ${name}: ${r.spawnError}`;
  if (r.timedOut) {
    return `${name} did not answer within ${timeoutMs / 1000} s: check the network (VPN, proxy, firewall) and the URL; ${check}`;
  }
  const said = firstLine(r.stderr).slice(0, 300);
  const e = r.stderr;
  const quote = said ? ` (git: ${said})` : '';
  if (/repository not found|does not appear to be a git repository|returned error: 404|not found|no such file or directory/i.test(e)) {
    return `${name}: repository not found${quote}: check the URL (git remote -v) and that your account has access to it`;
  }
  if (/host key verification failed/i.test(e)) {
    return `${name}: the SSH host key of the server is not known here${quote}: connect once with ssh in a terminal to check and accept it, then retry`;
  }
  const cannotConnect = () =>
    `cannot connect to ${name}${quote}: check the URL, the network (VPN, proxy) and that the server is up; ${check}`;
  if (
    /could not resolve (host|hostname)|connection refused|failed to connect|connection timed out|operation timed out|network is unreachable|no route to host|connection reset/i.test(
      e,
    )
  ) {
    return cannotConnect();
  }
  if (
    /terminal prompts disabled|could not read (username|password)|authentication failed|permission denied|access denied|returned error: 40[13]|invalid credentials|could not read from remote repository/i.test(
      e,
    )
  ) {
    return `${name} needs credentials and the cockpit cannot prompt for them${quote}: set up an SSH key (in ssh-agent) or a credential helper (git config credential.helper), then ${check}`;
  }
  if (/unable to access|could not connect/i.test(e)) return cannotConnect();
  return `git ls-remote ${remote} failed${quote || ` with exit code ${r.code}`}; ${check}`;
}

// ---------------------------------------------------------------------------------------------------------------

/** The queries bound to one repository (what a step sees as ctx.git). */
export function gitReader(cwd: string) {
  return {
    isRepo: () => isRepo(cwd),
    currentBranch: () => currentBranch(cwd),
    revParse: (ref: string) => revParse(cwd, ref),
    branchExists: (name: string) => branchExists(cwd, name),
    tagCommit: (tag: string) => tagCommit(cwd, tag),
    isAncestor: (a: string, b: string) => isAncestor(cwd, a, b),
    mergeBase: (a: string, b: string) => mergeBase(cwd, a, b),
    statusFiles: () => statusFiles(cwd),
    releaseTags: (ref?: string) => releaseTags(cwd, ref),
    lastRelease: (ref?: string) => lastRelease(cwd, ref),
    commitsBetween: (from: string | null, to: string) => commitsBetween(cwd, from, to),
    remoteUrl: (remote: string) => remoteUrl(cwd, remote),
    probeRemote: (remote: string, timeoutMs?: number) => probeRemote(cwd, remote, timeoutMs),
    conflictedFiles: () => conflictedFiles(cwd),
    fileAt: (ref: string, file: string) => fileAt(cwd, ref, file),
    identity: () => identity(cwd),
    mergeInProgress: () => mergeInProgress(cwd),
  };
}
