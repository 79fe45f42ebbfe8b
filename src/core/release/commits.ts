/**
 * Commits since the last release → what they mean for the next one: each raw commit parsed as a conventional
 * commit (https://www.conventionalcommits.org), the version bump they call for, and the operator's own choice
 * of version (a release or a hotfix) checked against the last release.
 *
 * Pure: no I/O and no clock. A git adapter gives the commits (RawCommit); everything that leaves this module as
 * text has been made safe to print (terminal controls spelled out, see ../sanitize.ts).
 *
 * The rules (research §6, semantic-release's defaults):
 *  - `type(scope)!: subject`, a `BREAKING CHANGE:` / `BREAKING-CHANGE:` / `BREAKING CHANGES:` footer (upper case,
 *    as the spec requires) → breaking → major; feat → minor; fix, perf and revert → patch; anything else (chore,
 *    docs, ci, refactor, test, build, style, non-conventional messages) → no release.
 *  - Merge commits (more than one parent) are neither notes entries nor counted: the commits they merge are in the
 *    range on their own.
 *  - A revert (`Revert "feat: x"` as git writes it, `Reapply "…"` for a revert of a revert, or `revert: …`, with
 *    `This reverts commit <hash>.`) is a patch. When the commit it reverts is in the same range, the two cancel
 *    out: both leave the notes and the counts (see `releaseCommits`). A commit reverted by a revert that was itself
 *    reverted in the range stays.
 *  - Before 1.0.0 (see `suggestVersion`): breaking → minor, feat/fix/perf/revert → patch.
 */
import { CommitParser } from 'conventional-commits-parser';
import semver from 'semver';
import { neutralize } from '../sanitize.js';

/** One commit as the git adapter reads it. */
export interface RawCommit {
  hash: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  /** Author date, epoch ms. */
  date: number;
  /** The full message: subject + "\n\n" + body. */
  message: string;
}

export type CommitGroup = 'breaking' | 'feat' | 'fix' | 'perf' | 'revert' | 'other';

export const COMMIT_GROUPS: readonly CommitGroup[] = ['breaking', 'feat', 'fix', 'perf', 'revert', 'other'];

export interface ParsedCommit {
  hash: string;
  /** The first 7 characters of the hash. */
  short: string;
  /** Author date, epoch ms (orders the notes). */
  date: number;
  /** The first line of the message as written (one line, made safe). */
  header: string;
  /** Lower-cased conventional type, or null when the header is not conventional. */
  type: string | null;
  scope: string | null;
  /** One line, made safe; a trailing "(#45)" pull-request suffix is moved to `refs`. Non-conventional: the header. */
  subject: string;
  /** The breaking note text (one line), or the subject for a '!' header; null when not breaking. */
  breaking: string | null;
  /** '#123', 'repo#7', 'owner/repo#45', from the header (incl. "(#45)" suffixes), body and footers; deduped. */
  refs: string[];
  /** The author's name (one line, made safe). */
  author: string;
  /** More than one parent. */
  merge: boolean;
  /** What this commit reverts: the reverted header and (when the message names it) its hash. */
  revert: { header: string; hash: string | null } | null;
  /** The header is `type(scope)!: subject`, or a revert git recognises (`Revert "…"`). */
  conventional: boolean;
  group: CommitGroup;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing
//
// conventional-commits-parser's `parse(message)` runs its reference grammar over every line of a message, and that
// grammar (`(?:.*?)??\s*([\w-\.\/]*?)??(#)([\w-]+)…`, tried at every position) is quadratic in the length of a line
// with no '#': measured with 6.4, ~0.25 ms for one 96-character body line, 67 ms for a 1,600-character line, and
// seconds for a pasted log line of a few kilobytes; it also appends any trailer after a `BREAKING CHANGE:` footer
// (`Co-authored-by: …`) to the breaking note. So the message is split here: the header, the breaking notes and the
// revert are read with the patterns below (those of conventional-changelog's conventionalcommits preset, made
// stricter), and the library's reference grammar (actions, owner/repo#n, no refs on a line holding a URL) is run
// only on the lines that hold a '#' — the only lines that can hold a reference.

/** type(scope)!: subject — a type is required, any scope text without parentheses, '!' marks a breaking change. */
const HEADER = /^(\w+)(?:\(([^()\n]*)\))?(!?):[ \t]+(\S[^\n]*)$/;
/**
 * A breaking-change footer: upper case (the spec: "BREAKING CHANGE MUST be uppercase") and a colon; the library's
 * default (any case, colon optional) takes a body sentence "Breaking change to …" for one.
 */
const NOTE = /^[\s|*]*(?:BREAKING CHANGES?|BREAKING-CHANGE):[ \t]*([^\n]*)$/;
/** A footer token (spec: `Token: value` or `Token #value`): where a breaking note's text ends. */
const TRAILER = /^[A-Za-z][\w-]*(?:: | #)/;
/** A revert's header: `Revert "…"` (git revert), `Reapply "…"` (git ≥ 2.43 reverting a revert); or type `revert`. */
const REVERT_HEADER = /^(?:Revert|Reapply) "(.+)"$/;
/** The line git revert writes; GitHub's revert button writes "Reverts owner/repo#45" instead (no hash then). */
const REVERTS_COMMIT = /^\s*This reverts commit ([0-9a-fA-F]{7,64})\b/;
/** Lines up to this length go to the reference grammar whole; longer ones only as the words that hold a '#'. */
const REF_LINE_MAX = 300;
const REF_WORDS_MAX = 50;

const refParser = new CommitParser({
  headerPattern: HEADER,
  headerCorrespondence: ['type', 'scope', 'bang', 'subject'],
  revertPattern: /(?!)/,
  fieldPattern: /(?!)/,
});

/** One line: controls spelled out, every run of white space (newlines, tabs, U+2028…) one space, trimmed. */
export function oneLine(text: string): string {
  return neutralize(text).replace(/\s+/g, ' ').trim();
}

/** Trailing "(#45)" / "(owner/repo#45)" pull-request suffixes, as squash merges write them. */
const PR_SUFFIX = /\s*\(((?:[\w.-]+\/)?[\w.-]*#\d+)\)\s*$/;

function refOf(r: { owner: string | null; repository: string | null; prefix: string; issue: string }): string | null {
  if (!/^\d+$/.test(r.issue)) return null; // '#' followed by a word is a hashtag, not an issue
  const repo = r.owner ? `${r.owner}/${r.repository ?? ''}` : (r.repository ?? '');
  return `${repo}${r.prefix}${r.issue}`;
}

/** The words of a long line that hold a '#' (a linear scan: a regex here would be quadratic on a long word). */
function wordsWithHash(line: string): string[] {
  const words: string[] = [];
  for (let i = line.indexOf('#'); i >= 0 && words.length < REF_WORDS_MAX; i = line.indexOf('#', i + 1)) {
    let a = i;
    while (a > 0 && !/\s/.test(line[a - 1])) a--;
    let b = i + 1;
    while (b < line.length && !/\s/.test(line[b])) b++;
    if (a > i - 200) words.push(line.slice(a, b).slice(0, 200 + (i - a)));
    i = b;
  }
  return words;
}

/** The references of one line, by the library's grammar. */
function refsOfLine(line: string, add: (ref: string) => void): void {
  const pieces = line.length <= REF_LINE_MAX ? [line] : wordsWithHash(line);
  for (const piece of pieces) {
    if (!piece.trim()) continue;
    for (const r of refParser.parse(piece).references) {
      const ref = refOf(r);
      if (ref) add(oneLine(ref));
    }
  }
}

/**
 * A carriage return inside a message would let a line overwrite itself on a terminal ("feat: x\rfeat: y"): it is
 * spelled out (␍) before parsing rather than turned into a line break, so what it hid stays where it was, visible.
 */
function normalizeMessage(message: string): string {
  let m = message.replace(/\r\n/g, '\n');
  if (m.includes('\r')) m = m.replace(/\r/g, '\u240d');
  return m.replace(/^\s+/, '');
}

/** The texts of the breaking-change footers; each runs to the next footer token (spec §8–9). */
function breakingNotes(lines: string[]): string[] {
  const notes: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const m = NOTE.exec(lines[i]);
    if (!m) continue;
    const text = [m[1]];
    while (i + 1 < lines.length && !NOTE.test(lines[i + 1]) && !TRAILER.test(lines[i + 1])) text.push(lines[++i]);
    notes.push(oneLine(text.join('\n')));
  }
  return notes;
}

export function parseCommit(c: RawCommit): ParsedCommit {
  const hash = oneLine(c.hash);
  const message = normalizeMessage(c.message);
  const lines = message.split('\n');
  const rawHeader = lines[0];
  const header = oneLine(rawHeader) || '(no message)';

  const h = HEADER.exec(rawHeader);
  const type = h ? oneLine(h[1]).toLowerCase() : null;
  const scope = h && h[2] ? oneLine(h[2]) || null : null;
  let subject = h ? oneLine(h[4]) : header;

  const refs: string[] = [];
  const addRef = (r: string) => {
    if (!refs.includes(r)) refs.push(r);
  };
  for (let m = PR_SUFFIX.exec(subject); m && m.index > 0; m = PR_SUFFIX.exec(subject)) {
    addRef(m[1]);
    subject = subject.slice(0, m.index).trimEnd();
  }
  for (const line of lines) if (line.includes('#')) refsOfLine(line, addRef);

  let revert: ParsedCommit['revert'] = null;
  const rh = REVERT_HEADER.exec(rawHeader);
  if (rh || type === 'revert') {
    let hashLine: RegExpExecArray | null = null;
    for (let i = 1; i < lines.length && !hashLine; i++) hashLine = REVERTS_COMMIT.exec(lines[i]);
    revert = { header: rh ? oneLine(rh[1]) : subject, hash: hashLine ? oneLine(hashLine[1]).toLowerCase() : null };
  }

  const notes = breakingNotes(lines);
  const breaking = notes.length ? notes.filter(Boolean).join('; ') || subject : h?.[3] === '!' ? subject : null;

  const merge = c.parents.length > 1;
  const conventional = type !== null || revert !== null;
  const group: CommitGroup =
    breaking !== null ? 'breaking' : revert !== null ? 'revert' : type === 'feat' || type === 'fix' || type === 'perf' ? type : 'other';

  return {
    hash,
    short: hash.slice(0, 7),
    date: c.date,
    header,
    type,
    scope,
    subject: subject || header,
    breaking,
    refs,
    author: oneLine(c.authorName) || oneLine(c.authorEmail) || 'unknown',
    merge,
    revert,
    conventional,
    group,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Which commits a release is made of

export interface ReleaseCommits {
  /** The commits that make the release: no merges, no reverted pairs; newest first (by date, then given order). */
  kept: ParsedCommit[];
  /** Commits left out because they cancel out: a commit reverted in the range, and the revert that did it. */
  cancelled: ParsedCommit[];
  /** Merge commits left out. */
  merges: ParsedCommit[];
}

/**
 * The commits a release is made of. A commit is *in effect* unless a revert in the range that is itself in effect
 * reverts it (so X, revert X → X out; X, revert X, revert of that revert → X in). A revert in effect whose target is
 * in the range cancels out with it and leaves too: the pair changed nothing. Reverts of commits from before the
 * range stay (they undo something released: a patch). Revert hashes may be abbreviated (≥ 7 hex digits).
 */
export function releaseCommits(commits: ParsedCommit[]): ReleaseCommits {
  const merges = commits.filter((c) => c.merge);
  const list = commits.filter((c) => !c.merge);
  const byHash = new Map(list.map((c) => [c.hash.toLowerCase(), c] as const));
  const find = (h: string | null): ParsedCommit | undefined => {
    if (!h) return undefined;
    const exact = byHash.get(h);
    if (exact || h.length >= 40) return exact;
    for (const [full, c] of byHash) if (full.startsWith(h)) return c;
    return undefined;
  };
  const revertsOf = new Map<ParsedCommit, ParsedCommit[]>();
  const targetOf = new Map<ParsedCommit, ParsedCommit>();
  for (const c of list) {
    const t = find(c.revert?.hash ?? null);
    if (!t || t === c) continue;
    targetOf.set(c, t);
    revertsOf.set(t, [...(revertsOf.get(t) ?? []), c]);
  }
  const effective = new Map<ParsedCommit, boolean>();
  // Iterative memoised walk: effective(c) = no effective revert of c in the range. Revert chains only point to
  // older commits, so there is no cycle; a cycle in crafted input is broken by treating the commit as in effect.
  const isEffective = (c: ParsedCommit, seen = new Set<ParsedCommit>()): boolean => {
    const known = effective.get(c);
    if (known !== undefined) return known;
    if (seen.has(c)) return true;
    seen.add(c);
    const e = !(revertsOf.get(c) ?? []).some((r) => isEffective(r, seen));
    effective.set(c, e);
    return e;
  };
  const kept: ParsedCommit[] = [];
  const cancelled: ParsedCommit[] = [];
  for (const c of list) {
    if (!isEffective(c) || targetOf.has(c)) cancelled.push(c);
    else kept.push(c);
  }
  return { kept: newestFirst(kept, commits), cancelled, merges };
}

/** Newest first by date; commits of the same date keep their given order (git log's, newest first). */
export function newestFirst(list: ParsedCommit[], order: ParsedCommit[] = list): ParsedCommit[] {
  const index = new Map(order.map((c, i) => [c, i] as const));
  return [...list].sort((a, b) => b.date - a.date || (index.get(a) ?? 0) - (index.get(b) ?? 0));
}

// ---------------------------------------------------------------------------------------------------------------
// The version

export type Bump = 'major' | 'minor' | 'patch';

export interface Suggestion {
  bump: Bump | null;
  version: string | null;
  /** e.g. "2 breaking changes (a1b2c3d feat(api)!: drop v1, …) → major". */
  reason: string;
  /** Per group, over the commits that make the release (no merges, no reverted pairs). */
  counts: Record<CommitGroup, number>;
}

const NOUNS: Record<CommitGroup, [string, string]> = {
  breaking: ['breaking change', 'breaking changes'],
  feat: ['feature', 'features'],
  fix: ['fix', 'fixes'],
  perf: ['performance improvement', 'performance improvements'],
  revert: ['revert', 'reverts'],
  other: ['other change', 'other changes'],
};

const EXAMPLES = 3;

function countOf(n: number, g: CommitGroup): string {
  return `${n} ${NOUNS[g][n === 1 ? 0 : 1]}`;
}

function listAnd(parts: string[]): string {
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** "1.3.0" and "v1.3.0" both; null when not a version. */
function parseVersion(v: string): string | null {
  const text = v.trim().replace(/^v(?=\d)/i, '');
  return semver.valid(text) ? text : null;
}

/** Echo of an operator's input in a message: one safe line, cut at 40 characters. */
function echo(s: string): string {
  const t = oneLine(s);
  return t.length > 40 ? `${t.slice(0, 39)}…` : t;
}

/**
 * The bump the commits since `last` call for (research §6): any breaking change → major; else any feat → minor;
 * else any fix, perf or revert → patch; else none (chore, docs, ci, refactor, test, build, style and
 * non-conventional commits alone make no release).
 *
 * Before 1.0.0 (0.y.z, where semver §4 says anything may change): a breaking change → minor, and feat, fix, perf
 * or revert → patch, as standard-version / commit-and-tag-version (conventional-changelog's `preMajor`) and
 * release-please's `bump-minor-pre-major` + `bump-patch-for-minor-pre-major` do. The move to 1.0.0 is never
 * suggested: it is a deliberate decision (`chooseVersion(last, 'major')`).
 *
 * Merges and reverted pairs are left out (see `releaseCommits`); the reason says how many pairs cancelled out.
 */
export function suggestVersion(last: string, commits: ParsedCommit[]): Suggestion {
  const { kept, cancelled } = releaseCommits(commits);
  const counts: Record<CommitGroup, number> = { breaking: 0, feat: 0, fix: 0, perf: 0, revert: 0, other: 0 };
  for (const c of kept) counts[c.group]++;
  const lastShown = echo(last);
  const current = parseVersion(last);
  const preMajor = current !== null && semver.major(current) === 0;
  const pairs = cancelled.length ? `; ${cancelled.length} commits left out: reverted in the same range, with their reverts` : '';

  let deciding: CommitGroup[] = [];
  let bump: Bump | null = null;
  if (counts.breaking) [deciding, bump] = [['breaking'], preMajor ? 'minor' : 'major'];
  else if (counts.feat) [deciding, bump] = [['feat'], preMajor ? 'patch' : 'minor'];
  else if (counts.fix + counts.perf + counts.revert) [deciding, bump] = [['fix', 'perf', 'revert'], 'patch'];

  if (!bump) {
    const what = kept.length
      ? `no feat, fix, perf or revert since ${lastShown} (${countOf(counts.other, 'other')})`
      : `no commits since ${lastShown}`;
    return { bump: null, version: null, reason: `${what}: nothing to release${pairs}`, counts };
  }
  const examples = kept.filter((c) => deciding.includes(c.group));
  const shown = examples.slice(0, EXAMPLES).map((c) => `${c.short} ${c.header}`);
  if (examples.length > EXAMPLES) shown.push('…');
  const counted = listAnd(deciding.filter((g) => counts[g]).map((g) => countOf(counts[g], g)));
  const rule = preMajor
    ? bump === 'minor'
      ? ' (before 1.0.0 a breaking change bumps the minor; 1.0.0 is your decision)'
      : deciding[0] === 'feat'
        ? ' (before 1.0.0 a feature bumps the patch)'
        : ''
    : '';
  const version = current ? semver.inc(current, bump) : null;
  const bad = current ? '' : `; the last release ${lastShown} is not a semantic version, so no version follows`;
  return { bump, version, reason: `${counted} (${shown.join(', ')}) → ${bump}${rule}${bad}${pairs}`, counts };
}

type Choice = { ok: true; version: string } | { ok: false; message: string };

const KEYWORDS = ['major', 'minor', 'patch'] as const;

/**
 * The operator's choice of version: 'major' | 'minor' | 'patch' applies to `last`; an explicit X.Y.Z (a leading v
 * allowed; pre-release and build parts allowed, kept as written) must be greater than `last`.
 */
export function chooseVersion(last: string, choice: string): Choice {
  const current = parseVersion(last);
  if (!current) return { ok: false, message: `the last release ${echo(last)} is not a semantic version (X.Y.Z)` };
  const c = choice.trim();
  const keyword = KEYWORDS.find((k) => k === c.toLowerCase());
  if (keyword) return { ok: true, version: semver.inc(current, keyword)! };
  const version = parseVersion(c);
  if (!version) {
    return {
      ok: false,
      message: `${c ? `"${echo(c)}"` : 'an empty answer'} is not a version: give major, minor, patch or a version X.Y.Z greater than ${current} (e.g. ${semver.inc(current, 'minor')})`,
    };
  }
  if (semver.eq(version, current))
    return {
      ok: false,
      message: `${version} is the last release already: choose a greater version (e.g. ${semver.inc(current, 'patch')})`,
    };
  if (semver.lt(version, current)) return { ok: false, message: `${version} is not greater than the last release ${current}` };
  return { ok: true, version };
}

/**
 * A hotfix from vX.Y.Z may only produce X.Y.(Z+n), n ≥ 1 (research §6, as semantic-release's maintenance branches):
 * no choice or 'patch' → X.Y.(Z+1); an explicit version must keep X.Y, raise Z, and carry no pre-release part.
 * `last` must be a release (no pre-release part).
 */
export function chooseHotfixVersion(last: string, choice: string | undefined): Choice {
  const current = parseVersion(last);
  if (!current) return { ok: false, message: `the last release ${echo(last)} is not a semantic version (X.Y.Z)` };
  if (semver.prerelease(current)) return { ok: false, message: `a hotfix starts from a release X.Y.Z, and ${current} is a pre-release` };
  const next = semver.inc(current, 'patch')!;
  const [major, minor] = [semver.major(current), semver.minor(current)];
  const range = `${major}.${minor}.${semver.patch(current) + 1}, ${major}.${minor}.${semver.patch(current) + 2}, …`;
  const c = (choice ?? '').trim();
  if (!c || c.toLowerCase() === 'patch') return { ok: true, version: next };
  if (c.toLowerCase() === 'major' || c.toLowerCase() === 'minor') {
    return {
      ok: false,
      message: `a hotfix from ${current} may only raise the patch number (${range}); ${c.toLowerCase()} would give ${semver.inc(current, c.toLowerCase() as Bump)}: make a release for that`,
    };
  }
  const version = parseVersion(c);
  if (!version) return { ok: false, message: `"${echo(c)}" is not a version: a hotfix from ${current} is ${range}` };
  if (semver.prerelease(version) || semver.major(version) !== major || semver.minor(version) !== minor) {
    return { ok: false, message: `${version} is not a hotfix of ${current}: a hotfix from ${current} is ${range}` };
  }
  if (semver.patch(version) <= semver.patch(current)) {
    return { ok: false, message: `${version} is not greater than the last release ${current}: a hotfix from ${current} is ${range}` };
  }
  return { ok: true, version };
}

/** The release's own bookkeeping (`chore(release): X.Y.Z`, the version bump) is not news: left out of notes and suggestions. */
export function isReleaseBookkeeping(c: ParsedCommit): boolean {
  return c.type === 'chore' && c.scope === 'release';
}
