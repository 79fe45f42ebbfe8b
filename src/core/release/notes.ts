/**
 * Release notes from parsed commits (./commits.ts), as a Markdown section, and its place in CHANGELOG.md.
 *
 * Pure: no I/O and no clock (the release date is passed in). Every commit text in the notes has been made safe by
 * parseCommit (terminal controls spelled out, one line); the version, date and repository URL given here are made
 * safe the same way.
 *
 * Decisions:
 *  - One entry per commit, in the first group that applies (breaking, feat, fix, perf, revert, other): a breaking
 *    feat is under "⚠ BREAKING CHANGES" with its breaking note, not repeated under Features, so the entries add
 *    up to the counts of `suggestVersion`.
 *  - Newest first within a group (by author date, then git log's order), as conventional-changelog and
 *    release-please write them: the last change made is the first one read.
 *  - Merges and reverted pairs are left out (`releaseCommits`).
 *  - Entries under "Other changes" keep their type ("**chore(deps):** bump vite"): without it "bump vite" under
 *    "Other changes" says less than the commit did.
 *  - Contributors: each author once, in alphabetical order.
 */
import { inertMarkdown } from '../markdown.js';
import { oneLine, releaseCommits, type CommitGroup, type ParsedCommit } from './commits.js';

export interface NotesInput {
  version: string;
  previous: string | null;
  /** The release date, epoch ms (written as its UTC day). */
  date: number;
  commits: ParsedCommit[];
  /** e.g. https://github.com/acme/property: links the hashes, the refs and (with `previous`) a compare view. */
  repoUrl?: string;
}

const HEADINGS: Record<CommitGroup, string> = {
  breaking: '⚠ BREAKING CHANGES',
  feat: 'Features',
  fix: 'Bug Fixes',
  perf: 'Performance',
  revert: 'Reverts',
  other: 'Other changes',
};

const ORDER: CommitGroup[] = ['breaking', 'feat', 'fix', 'perf', 'revert', 'other'];

function day(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'undated' : d.toISOString().slice(0, 10);
}

/** The tag of a version: v-prefixed, as the release checklists tag (vX.Y.Z). */
function tagOf(version: string): string {
  return /^v/i.test(version) ? version : `v${version}`;
}

interface Links {
  commit(hash: string): string;
  ref(ref: string): string;
  compare(from: string, to: string): string;
}

function linksFor(repoUrl: string | undefined): Links | null {
  const base = repoUrl
    ? oneLine(repoUrl)
        .replace(/\.git$/, '')
        .replace(/\/+$/, '')
    : '';
  if (!/^https?:\/\/\S+\/\S+$/.test(base) || /[()<>\s]/.test(base)) return null;
  const host = base.replace(/\/[^/]+\/[^/]+$/, '');
  return {
    commit: (hash) => `${base}/commit/${hash}`,
    ref: (ref) => {
      const [repo, num] = ref.split('#');
      if (!repo) return `${base}/issues/${num}`;
      return repo.includes('/') ? `${host}/${repo}/issues/${num}` : `${host}/${base.split('/').slice(-2, -1)[0]}/${repo}/issues/${num}`;
    },
    compare: (from, to) => `${base}/compare/${from}...${to}`,
  };
}

function entry(c: ParsedCommit, links: Links | null): string {
  let label: string | null;
  let text: string;
  if (c.group === 'breaking') {
    label = c.scope;
    text = c.breaking ?? c.subject;
  } else if (c.group === 'revert') {
    label = null;
    text = c.revert?.header || c.subject;
  } else if (c.group === 'other' && c.type) {
    label = c.scope ? `${c.type}(${c.scope})` : c.type;
    text = c.subject;
  } else {
    label = c.scope;
    text = c.subject;
  }
  const hash = links ? `[${c.short}](${links.commit(c.hash)})` : c.short;
  // The commit's own words are inert (core/markdown.ts); only the links the cockpit builds are links.
  const refs = c.refs.map((r) => (links && /^[\w./-]*#\d+$/.test(r) ? `[${r}](${links.ref(r)})` : inertMarkdown(r)));
  const extra = c.group === 'revert' && c.revert?.hash ? [`reverts ${c.revert.hash.slice(0, 7)}`] : [];
  return `- ${label ? `**${inertMarkdown(label)}:** ` : ''}${inertMarkdown(text)} (${[hash, ...refs, ...extra].join(', ')}) — ${inertMarkdown(c.author)}`;
}

/**
 * The Markdown section of one release:
 *
 *     ## 2.4.0 (2026-11-27)                      (## [2.4.0](…/compare/v2.3.1...v2.4.0) (2026-11-27) with a repoUrl)
 *
 *     ### ⚠ BREAKING CHANGES
 *
 *     - **api:** the v1 endpoints are gone (a1b2c3d, #12) — Ana Souza
 *
 *     ### Features …  ### Bug Fixes …  ### Performance …  ### Reverts …  ### Other changes …
 *
 *     Contributors: Ana Souza, Ben Okafor
 *
 * Only the groups that have entries; ends with a newline.
 */
export function renderNotes(input: NotesInput): string {
  const links = linksFor(input.repoUrl);
  const version = oneLine(input.version);
  const previous = input.previous ? oneLine(input.previous) : null;
  const title = links && previous ? `[${version}](${links.compare(tagOf(previous), tagOf(version))})` : version;
  const out: string[] = [`## ${title} (${day(input.date)})`, ''];
  const { kept } = releaseCommits(input.commits);
  if (!kept.length) {
    out.push(previous ? `No changes since ${previous}.` : 'No changes.', '');
    return out.join('\n');
  }
  for (const g of ORDER) {
    const list = kept.filter((c) => c.group === g);
    if (!list.length) continue;
    out.push(`### ${HEADINGS[g]}`, '', ...list.map((c) => entry(c, links)), '');
  }
  const authors = [...new Set(kept.map((c) => c.author))].sort((a, b) => a.localeCompare(b, 'en'));
  out.push(`Contributors: ${authors.map((a) => inertMarkdown(a)).join(', ')}`, '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// CHANGELOG.md

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The level-2 headings of a Markdown text outside fenced code blocks: line index and text. */
function sectionHeadings(lines: string[]): Array<{ line: number; text: string }> {
  const found: Array<{ line: number; text: string }> = [];
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1];
      else if (f[1][0] === fence[0] && f[1].length >= fence.length) fence = null;
      return;
    }
    if (fence === null && /^##[ \t]/.test(line)) found.push({ line: i, text: line.slice(2).trim() });
  });
  return found;
}

/**
 * Put a release's section into CHANGELOG.md's text:
 *  - an empty (or blank) file becomes "# Changelog\n\n" + the section;
 *  - if a level-2 heading for this exact version is there already ("## 2.4.0 …", "## v2.4.0", "## [2.4.0](…)",
 *    "## [2.4.0] - …"; not 2.4.0-rc.1), the text comes back unchanged with `alreadyThere` (a resumed release does not
 *    write it twice);
 *  - otherwise the section goes just above the newest existing release section: the first "## " heading that is not
 *    "## Unreleased" / "## [Unreleased]". An Unreleased section stays where it is, untouched, above the new one
 *    (Keep a Changelog): what it says was written by hand, and only its author knows what of it is now released.
 *    A title block ("# Changelog" and its intro) stays on top. Without any release section, the new one is
 *    appended at the end.
 * Headings inside fenced code blocks are ignored; a file with CRLF line ends keeps them.
 */
export function insertChangelogSection(existing: string, version: string, section: string): { text: string; alreadyThere: boolean } {
  const crlf = existing.includes('\r\n');
  const text = existing.replace(/\r\n/g, '\n');
  const body = section.replace(/\r\n/g, '\n').replace(/^\n+/, '').replace(/\s+$/, '') + '\n';
  const restore = (t: string) => (crlf ? t.replace(/\n/g, '\r\n') : t);

  if (!text.trim()) return { text: restore(`# Changelog\n\n${body}`), alreadyThere: false };

  const lines = text.split('\n');
  const headings = sectionHeadings(lines);
  const v = escapeRe(version.trim().replace(/^v(?=\d)/i, ''));
  const same = new RegExp(`^\\[?v?${v}(?:\\]|[\\s(]|$)`, 'i');
  if (headings.some((h) => same.test(h.text))) return { text: existing, alreadyThere: true };

  const newest = headings.find((h) => !/^\[?unreleased\]?(?:\s|$|\()/i.test(h.text));
  if (!newest) {
    const head = text.replace(/\s+$/, '');
    return { text: restore(`${head}\n\n${body}`), alreadyThere: false };
  }
  const before = lines.slice(0, newest.line).join('\n').replace(/\s+$/, '');
  const after = lines.slice(newest.line).join('\n');
  return { text: restore(`${before ? `${before}\n\n` : ''}${body}\n${after}`), alreadyThere: false };
}

/**
 * The section of `version` in CHANGELOG.md's text (its "## " heading line included, up to the next level-2 heading),
 * matched as `insertChangelogSection` matches it; null when the changelog has none.
 */
export function changelogSection(existing: string, version: string): string | null {
  const lines = existing.replace(/\r\n/g, '\n').split('\n');
  const headings = sectionHeadings(lines);
  const v = escapeRe(version.trim().replace(/^v(?=\d)/i, ''));
  const same = new RegExp(`^\\[?v?${v}(?:\\]|[\\s(]|$)`, 'i');
  const at = headings.findIndex((h) => same.test(h.text));
  if (at < 0) return null;
  const end = headings[at + 1]?.line ?? lines.length;
  return lines.slice(headings[at].line, end).join('\n').replace(/\s+$/, '') + '\n';
}
