import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  chooseHotfixVersion,
  chooseVersion,
  parseCommit,
  releaseCommits,
  suggestVersion,
  type ParsedCommit,
  type RawCommit,
} from '../../src/core/release/commits.js';
import { insertChangelogSection, renderNotes } from '../../src/core/release/notes.js';

const ESC = '\x1b';
/** Any raw C0/C1 control other than newline and tab, or a bidi control. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

const hashOf = (s: string) => createHash('sha1').update(s).digest('hex');
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 9);

const ANA = { authorName: 'Ana Souza', authorEmail: 'ana@property.example' };
const BEN = { authorName: 'Ben Okafor', authorEmail: 'ben@property.example' };
const CHLOE = { authorName: 'Chloe Martin', authorEmail: 'chloe@property.example' };
const BOT = { authorName: 'dependabot[bot]', authorEmail: 'bot@users.noreply.github.com' };

/**
 * A history as git log gives it (newest first) from specs written oldest first: each commit a day after the
 * previous one, its parent the previous commit (or `parents` for a merge).
 */
function history(specs: Array<{ message: string; who?: typeof ANA; parents?: number }>): RawCommit[] {
  const out: RawCommit[] = [];
  specs.forEach((s, i) => {
    const parent = out[0]?.hash ?? hashOf('root');
    out.unshift({
      hash: hashOf(`${i}:${s.message}`),
      parents: s.parents ? [parent, hashOf(`side-${i}`)] : [parent],
      ...(s.who ?? ANA),
      date: T0 + i * DAY,
      message: s.message,
    });
  });
  return out;
}

const parseAll = (raw: RawCommit[]) => raw.map(parseCommit);
const commitsOf = (...messages: string[]) => parseAll(history(messages.map((message) => ({ message }))));

// ---------------------------------------------------------------------------------------------------------------

describe('parseCommit', () => {
  it('reads type, scope and subject; non-conventional messages are "other"', () => {
    const [plain, conv] = commitsOf('feat(search): filter listings by price', 'Update the README').reverse();
    expect(plain).toMatchObject({
      type: 'feat',
      scope: 'search',
      subject: 'filter listings by price',
      conventional: true,
      group: 'feat',
      breaking: null,
    });
    expect(conv).toMatchObject({ type: null, scope: null, subject: 'Update the README', conventional: false, group: 'other' });
    expect(plain.short).toBe(plain.hash.slice(0, 7));
  });

  it('a "!" header is breaking with its subject; a BREAKING CHANGE / BREAKING-CHANGE footer gives the note text', () => {
    const [bang, footer, dash, both] = commitsOf(
      'feat(api)!: drop the v1 endpoints',
      'refactor(db): rename listings.price\n\nThe column is price_cents now.\n\nBREAKING CHANGE: listings.price is now listings.price_cents',
      'fix: stricter dates\n\nBREAKING-CHANGE: dates without a time zone are refused',
      'feat!: new login\n\nBREAKING CHANGE: sessions from 1.x\nare logged out',
    ).reverse();
    expect(bang).toMatchObject({ group: 'breaking', breaking: 'drop the v1 endpoints', scope: 'api' });
    expect(footer).toMatchObject({ group: 'breaking', type: 'refactor', breaking: 'listings.price is now listings.price_cents' });
    expect(dash).toMatchObject({ group: 'breaking', breaking: 'dates without a time zone are refused' });
    expect(both.breaking).toBe('sessions from 1.x are logged out'); // footer wins, one line
  });

  it('a lower-case "breaking change" sentence in a body is not a footer; a Markdown rule in the body hides no footer', () => {
    const [prose, rule] = commitsOf(
      'fix: a small thing\n\nBreaking change to nothing, really.\n\nbreaking change: not this either',
      'feat: x\n\nSome text\n\n---\n\nBREAKING CHANGE: still seen',
    ).reverse();
    expect(prose).toMatchObject({ group: 'fix', breaking: null });
    expect(rule).toMatchObject({ group: 'breaking', breaking: 'still seen' });
  });

  it('a breaking note ends at the next footer token: a Co-authored-by trailer is not part of it', () => {
    const [c] = commitsOf(
      'feat(auth)!: sessions expire\n\nBREAKING CHANGE: sessions expire after 12 h;\nsign in again.\nCo-authored-by: Ben Okafor <ben@property.example>\nSigned-off-by: Ana Souza <ana@property.example>',
    );
    expect(c.breaking).toBe('sessions expire after 12 h; sign in again.');
  });

  // (How fast a very long line parses is for scripts/bench/release-notes.ts to say: docs/architecture.md §8, no timed tests.)
  it('a message with a very long line (a pasted log) is parsed, and a ref in that line is still found', () => {
    const long = 'x'.repeat(20_000) + ' see #77 ' + 'y '.repeat(20_000);
    const [c] = commitsOf(`fix: a pasted log\n\n${long}\n${'z'.repeat(50_000)}`);
    expect(c.subject).toBe('a pasted log');
    expect(c.refs).toEqual(['#77']);
  });

  it('collects refs from footers, the header and "(#45)" suffixes, deduped, and takes the suffix off the subject', () => {
    const [c] = commitsOf(
      'fix(payments): retry a declined card once (#45)\n\nCard issuers decline now and then.\n\nCloses #12, fixes acme/backend#7\nRefs: #45',
    );
    expect(c.subject).toBe('retry a declined card once');
    expect(c.refs).toEqual(['#45', '#12', 'acme/backend#7']);
    const [tag] = commitsOf('docs: #hashtags are not issues');
    expect(tag.refs).toEqual([]);
  });

  it('merge commits are marked', () => {
    const [m] = parseAll(history([{ message: "Merge branch 'feature/price' into develop", parents: 2 }]));
    expect(m.merge).toBe(true);
  });

  it('reverts: git\'s Revert "…", revert: …, with the reverted header and hash', () => {
    const h = hashOf('x');
    const [git, conv, bare] = commitsOf(
      `Revert "feat(search): saved searches"\n\nThis reverts commit ${h}.`,
      `revert: fix(booking): time zones\n\nThis reverts commit ${h.slice(0, 10)}.`,
      'revert: the deposit change',
    ).reverse();
    expect(git).toMatchObject({ group: 'revert', conventional: true, revert: { header: 'feat(search): saved searches', hash: h } });
    expect(conv).toMatchObject({ group: 'revert', type: 'revert', revert: { header: 'fix(booking): time zones', hash: h.slice(0, 10) } });
    expect(bare).toMatchObject({ group: 'revert', revert: { header: 'the deposit change', hash: null } });
  });

  it('GitHub\'s revert button (no hash, "Reverts owner/repo#45") is a revert too', () => {
    const [c] = commitsOf('Revert "feat(search): saved searches (#45)"\n\nReverts acme/property#45');
    expect(c).toMatchObject({ group: 'revert', revert: { header: 'feat(search): saved searches (#45)', hash: null } });
    expect(c.refs).toEqual(['#45', 'acme/property#45']);
  });

  it('terminal escape sequences and bidi overrides become visible stand-ins; the subject is one line', () => {
    const [c] = parseAll([
      {
        hash: hashOf('evil'),
        parents: [hashOf('p')],
        authorName: `Mallory${ESC}]0;pwned\x07`,
        authorEmail: 'm@x',
        date: T0,
        message: `fix(ui):   clear${ESC}[2J and copy ${ESC}]52;c;ZWNobyBoYWNrZWQ=\x07 \u202Eevil\u202C\tdone\rhidden\n\nBREAKING CHANGE: ${ESC}[31mred${ESC}[0m`,
      },
    ]);
    for (const s of [c.subject, c.header, c.author, c.breaking!]) expect(s).not.toMatch(RAW_CONTROL);
    expect(c.subject).toBe('clear␛[2J and copy ␛]52;c;ZWNobyBoYWNrZWQ=␇ \\u{202e}evil\\u{202c} done␍hidden');
    expect(c.author).toBe('Mallory␛]0;pwned␇');
    expect(c.breaking).toBe('␛[31mred␛[0m');
  });

  it('an empty message is a non-conventional "(no message)"', () => {
    const [c] = commitsOf('   \n\n');
    expect(c).toMatchObject({ subject: '(no message)', conventional: false, group: 'other' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('releaseCommits: merges and reverted pairs', () => {
  it('drops merges; a commit and its revert in the same range both go; a revert of an older commit stays', () => {
    const raw = history([
      { message: 'feat(search): saved searches' },
      { message: 'fix: typo', who: BEN },
      { message: "Merge branch 'feature/x' into develop", parents: 2 },
    ]);
    const saved = raw.find((r) => r.message.startsWith('feat(search)'))!;
    const more = history([
      { message: 'feat(search): saved searches' },
      { message: 'fix: typo', who: BEN },
      { message: "Merge branch 'feature/x' into develop", parents: 2 },
      { message: `Revert "feat(search): saved searches"\n\nThis reverts commit ${saved.hash}.` },
      { message: `Revert "feat(payments): deposits"\n\nThis reverts commit ${hashOf('released long ago')}.` },
    ]);
    const { kept, cancelled, merges } = releaseCommits(parseAll(more));
    expect(merges.map((c) => c.header)).toEqual(["Merge branch 'feature/x' into develop"]);
    expect(cancelled.map((c) => c.header).sort()).toEqual(['Revert "feat(search): saved searches"', 'feat(search): saved searches']);
    expect(kept.map((c) => c.header)).toEqual(['Revert "feat(payments): deposits"', 'fix: typo']);
  });

  it('a revert of a revert in the range brings the commit back (git ≥ 2.43 writes "Reapply")', () => {
    const x = history([{ message: 'feat: x' }])[0];
    const r = {
      hash: hashOf('r'),
      parents: [x.hash],
      ...ANA,
      date: x.date + DAY,
      message: `Revert "feat: x"\n\nThis reverts commit ${x.hash}.`,
    };
    const rr = {
      hash: hashOf('rr'),
      parents: [r.hash],
      ...ANA,
      date: r.date + DAY,
      message: `Reapply "feat: x"\n\nThis reverts commit ${r.hash.slice(0, 12)}.`,
    };
    const { kept, cancelled } = releaseCommits([rr, r, x].map(parseCommit));
    expect(kept.map((c) => c.header)).toEqual(['feat: x']);
    expect(cancelled).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('suggestVersion', () => {
  it('only chores, docs, ci → no release, and says why', () => {
    const s = suggestVersion('v1.3.0', commitsOf('chore(deps): bump vite', 'docs: release howto', 'ci: cache npm'));
    expect(s).toMatchObject({ bump: null, version: null });
    expect(s.reason).toBe('no feat, fix, perf or revert since v1.3.0 (3 other changes): nothing to release');
    expect(suggestVersion('1.3.0', []).reason).toBe('no commits since 1.3.0: nothing to release');
  });

  it('a fix → patch', () => {
    const s = suggestVersion('1.3.0', commitsOf('chore: x', 'fix(search): accents'));
    expect(s).toMatchObject({ bump: 'patch', version: '1.3.1' });
    expect(s.counts).toEqual({ breaking: 0, feat: 0, fix: 1, perf: 0, revert: 0, other: 1 });
    expect(s.reason).toMatch(/^1 fix \([0-9a-f]{7} fix\(search\): accents\) → patch$/);
  });

  it('fix, perf and revert together → patch, all named', () => {
    const s = suggestVersion('1.3.0', commitsOf('fix: a', 'perf: b', 'fix: c', 'revert: d'));
    expect(s.bump).toBe('patch');
    expect(s.reason).toMatch(
      /^2 fixes, 1 performance improvement and 1 revert \([0-9a-f]{7} revert: d, [0-9a-f]{7} fix: c, [0-9a-f]{7} perf: b, …\) → patch$/,
    );
  });

  it('feat + fix → minor', () => {
    const s = suggestVersion('v1.3.0', commitsOf('fix: a', 'feat(booking): e-mail the guest', 'feat: b'));
    expect(s).toMatchObject({ bump: 'minor', version: '1.4.0' });
    expect(s.reason).toMatch(/^2 features \([0-9a-f]{7} feat: b, [0-9a-f]{7} feat\(booking\): e-mail the guest\) → minor$/);
  });

  it('breaking ("!" or a footer) → major', () => {
    const s = suggestVersion('2.3.1', commitsOf('feat: a', 'feat(api)!: drop v1', 'fix: b\n\nBREAKING CHANGE: x'));
    expect(s).toMatchObject({ bump: 'major', version: '3.0.0' });
    expect(s.reason).toMatch(/^2 breaking changes \([0-9a-f]{7} fix: b, [0-9a-f]{7} feat\(api\)!: drop v1\) → major$/);
    expect(s.counts.breaking).toBe(2);
    expect(s.counts.feat).toBe(1);
  });

  it('before 1.0.0: breaking → minor, feat → patch, and 1.0.0 is never suggested', () => {
    const b = suggestVersion('0.4.2', commitsOf('feat!: new config format'));
    expect(b).toMatchObject({ bump: 'minor', version: '0.5.0' });
    expect(b.reason).toContain('before 1.0.0 a breaking change bumps the minor');
    const f = suggestVersion('v0.4.2', commitsOf('feat: a', 'fix: b'));
    expect(f).toMatchObject({ bump: 'patch', version: '0.4.3' });
    expect(f.reason).toContain('before 1.0.0 a feature bumps the patch');
    expect(suggestVersion('0.4.2', commitsOf('fix: b'))).toMatchObject({ bump: 'patch', version: '0.4.3' });
  });

  it('a breaking commit reverted in the same range and merges count nothing', () => {
    const base = history([{ message: 'feat(api)!: drop v1' }]);
    const raw = [
      {
        hash: hashOf('rv'),
        parents: [base[0].hash],
        ...BEN,
        date: T0 + DAY,
        message: `Revert "feat(api)!: drop v1"\n\nThis reverts commit ${base[0].hash}.`,
      },
      {
        hash: hashOf('m'),
        parents: [base[0].hash, hashOf('side')],
        ...BEN,
        date: T0 + 2 * DAY,
        message: 'Merge pull request #9 from acme/feat\n\nfeat: a',
      },
      ...base,
    ];
    const s = suggestVersion('1.3.0', raw.map(parseCommit));
    expect(s.bump).toBeNull();
    expect(s.counts).toEqual({ breaking: 0, feat: 0, fix: 0, perf: 0, revert: 0, other: 0 });
    expect(s.reason).toBe('no commits since 1.3.0: nothing to release; 2 commits left out: reverted in the same range, with their reverts');
  });

  it('a last release that is not a version: the bump, but no version', () => {
    const s = suggestVersion('latest', commitsOf('fix: a'));
    expect(s).toMatchObject({ bump: 'patch', version: null });
    expect(s.reason).toContain('latest is not a semantic version');
  });
});

describe('chooseVersion', () => {
  it('major / minor / patch apply to the last release', () => {
    expect(chooseVersion('2.3.1', 'major')).toEqual({ ok: true, version: '3.0.0' });
    expect(chooseVersion('v2.3.1', 'minor')).toEqual({ ok: true, version: '2.4.0' });
    expect(chooseVersion('2.3.1', ' Patch ')).toEqual({ ok: true, version: '2.3.2' });
    expect(chooseVersion('0.9.3', 'major')).toEqual({ ok: true, version: '1.0.0' });
  });

  it('an explicit X.Y.Z or vX.Y.Z greater than the last release', () => {
    expect(chooseVersion('2.3.1', '2.4.0')).toEqual({ ok: true, version: '2.4.0' });
    expect(chooseVersion('2.3.1', 'v3.0.0')).toEqual({ ok: true, version: '3.0.0' });
    expect(chooseVersion('2.3.1', '2.4.0-rc.1')).toEqual({ ok: true, version: '2.4.0-rc.1' });
  });

  it('refuses garbage, the same version and a smaller one, in words', () => {
    expect(chooseVersion('2.3.1', '2.3.0')).toEqual({ ok: false, message: '2.3.0 is not greater than the last release 2.3.1' });
    expect(chooseVersion('2.3.1', 'v2.3.1')).toEqual({
      ok: false,
      message: '2.3.1 is the last release already: choose a greater version (e.g. 2.3.2)',
    });
    expect(chooseVersion('2.3.1', '2.4')).toEqual({
      ok: false,
      message: '"2.4" is not a version: give major, minor, patch or a version X.Y.Z greater than 2.3.1 (e.g. 2.4.0)',
    });
    const evil = chooseVersion('2.3.1', `${ESC}[2Jbig`);
    expect(evil.ok).toBe(false);
    if (!evil.ok) expect(evil.message).not.toMatch(RAW_CONTROL);
    expect(chooseVersion('2.3.1', '')).toMatchObject({ ok: false, message: expect.stringContaining('an empty answer is not a version') });
    expect(chooseVersion('next', 'patch')).toEqual({ ok: false, message: 'the last release next is not a semantic version (X.Y.Z)' });
  });
});

describe('chooseHotfixVersion', () => {
  it('from vX.Y.Z: X.Y.(Z+1) by default or on patch, X.Y.(Z+n) explicitly', () => {
    expect(chooseHotfixVersion('v2.3.1', undefined)).toEqual({ ok: true, version: '2.3.2' });
    expect(chooseHotfixVersion('2.3.1', 'patch')).toEqual({ ok: true, version: '2.3.2' });
    expect(chooseHotfixVersion('2.3.1', 'v2.3.4')).toEqual({ ok: true, version: '2.3.4' });
  });

  it('refuses another minor or major, a smaller or equal patch, a pre-release and garbage', () => {
    expect(chooseHotfixVersion('2.3.1', 'minor')).toEqual({
      ok: false,
      message: 'a hotfix from 2.3.1 may only raise the patch number (2.3.2, 2.3.3, …); minor would give 2.4.0: make a release for that',
    });
    expect(chooseHotfixVersion('2.3.1', '2.4.0')).toEqual({
      ok: false,
      message: '2.4.0 is not a hotfix of 2.3.1: a hotfix from 2.3.1 is 2.3.2, 2.3.3, …',
    });
    expect(chooseHotfixVersion('2.3.1', '2.3.1')).toEqual({
      ok: false,
      message: '2.3.1 is not greater than the last release 2.3.1: a hotfix from 2.3.1 is 2.3.2, 2.3.3, …',
    });
    expect(chooseHotfixVersion('2.3.1', '2.3.2-rc.1').ok).toBe(false);
    expect(chooseHotfixVersion('2.3.1', 'soon').ok).toBe(false);
    expect(chooseHotfixVersion('2.4.0-rc.1', undefined)).toEqual({
      ok: false,
      message: 'a hotfix starts from a release X.Y.Z, and 2.4.0-rc.1 is a pre-release',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** A release's worth of history: every kind of commit the notes have to deal with. */
function releaseHistory(): ParsedCommit[] {
  const first = history([{ message: 'feat(search): save a search (#40)', who: CHLOE }]);
  const raw = history([
    { message: 'feat(search): save a search (#40)', who: CHLOE },
    { message: 'fix(booking): check-in in the listing time zone\n\nCloses #51', who: BEN },
    { message: 'chore(deps): bump django from 4.2.11 to 4.2.16 in /backend', who: BOT },
    { message: 'feat(payments)!: take a 30% deposit at booking (#58)', who: BEN },
    { message: "Merge branch 'feature/deposit' into develop", parents: 2 },
    { message: `Revert "feat(search): save a search (#40)"\n\nThis reverts commit ${first[0].hash}.`, who: CHLOE },
    { message: 'perf(listings): count the listings of a city once', who: BEN },
    {
      message:
        'refactor(api): one client per request\n\nBREAKING CHANGE: api() takes a client as its first argument\n\nRefs: acme/frontend#9',
    },
    { message: `fix(ui): clear${ESC}[2J ${ESC}]52;c;cm0gLXJmIH4=\x07 \u202Etxt.exe\u202C`, who: CHLOE },
    { message: `Revert "fix(payments): retry a declined card once"\n\nThis reverts commit ${hashOf('1.3.0 era')}.`, who: BEN },
    { message: 'Update README.md', who: CHLOE },
    { message: 'feat: e-mail a confirmation to the guest', who: BEN },
  ]);
  return parseAll(raw);
}

describe('renderNotes', () => {
  const date = Date.UTC(2026, 10, 27, 15);

  it('renders the groups in order, newest first, with scopes, refs and authors', () => {
    const notes = renderNotes({ version: '2.0.0', previous: '1.3.0', date, commits: releaseHistory() });
    expect(notes).not.toMatch(RAW_CONTROL);
    expect(notes).toMatchInlineSnapshot(`
      "## 2.0.0 (2026-11-27)

      ### ⚠ BREAKING CHANGES

      - **api:** api() takes a client as its first argument (8d8cde4, acme/frontend#9) — Ana Souza
      - **payments:** take a 30% deposit at booking (eb87233, #58) — Ben Okafor

      ### Features

      - e-mail a confirmation to the guest (846f96d) — Ben Okafor

      ### Bug Fixes

      - **ui:** clear␛[2J ␛]52;c;cm0gLXJmIH4=␇ \\u{202e}txt.exe\\u{202c} (adf26c0) — Chloe Martin
      - **booking:** check-in in the listing time zone (223d677, #51) — Ben Okafor

      ### Performance

      - **listings:** count the listings of a city once (d3a7741) — Ben Okafor

      ### Reverts

      - fix(payments): retry a declined card once (0808167, reverts 7871b1e) — Ben Okafor

      ### Other changes

      - Update README.md (9d37d04) — Chloe Martin
      - **chore(deps):** bump django from 4.2.11 to 4.2.16 in /backend (388e8f6) — dependabot[bot]

      Contributors: Ana Souza, Ben Okafor, Chloe Martin, dependabot[bot]
      "
    `);
  });

  it('is inert: HTML, images and links written in commit messages read as text, with the links the cockpit builds kept', () => {
    const commits = commitsOf(
      'fix(ui): escape <img src=x onerror=alert(1)> in titles (#12)',
      'feat: ![pixel](http://evil.example/track.png) preview',
      'fix: see [the docs](javascript:alert(1)) and `code` still in a span',
    );
    const notes = renderNotes({ version: '1.0.1', previous: '1.0.0', date, commits, repoUrl: 'https://github.com/acme/property' });
    expect(notes).not.toContain('<img');
    expect(notes).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(notes).not.toMatch(/(^|[^\\])!\[pixel\]/);
    expect(notes).not.toMatch(/\[the docs\]\(javascript:/);
    expect(notes).toContain('`code`');
    // The cockpit's own links stay links: the commit hash and the #12 reference.
    expect(notes).toMatch(/\[#12\]\(https:\/\/github\.com\/acme\/property\/issues\/12\)/);
  });

  it('lists the newest commit of a group first, whatever order the commits come in', () => {
    const commits = commitsOf('fix: oldest', 'fix: middle', 'fix: newest');
    for (const list of [commits, [...commits].reverse()]) {
      const notes = renderNotes({ version: '1.0.1', previous: '1.0.0', date, commits: list });
      expect(notes.indexOf('newest')).toBeLessThan(notes.indexOf('middle'));
      expect(notes.indexOf('middle')).toBeLessThan(notes.indexOf('oldest'));
    }
  });

  it('drops merges and the reverted pair; keeps a revert of an older commit under Reverts', () => {
    const notes = renderNotes({ version: '2.0.0', previous: '1.3.0', date, commits: releaseHistory() });
    expect(notes).not.toContain('save a search');
    expect(notes).not.toContain('Merge branch');
    expect(notes).toMatch(
      /### Reverts\n\n- fix\(payments\): retry a declined card once \([0-9a-f]{7}, reverts [0-9a-f]{7}\) — Ben Okafor\n/,
    );
  });

  it('the escape sequences show as visible stand-ins, never raw', () => {
    const notes = renderNotes({ version: '2.0.0', previous: '1.3.0', date, commits: releaseHistory() });
    expect(notes).toContain('clear␛[2J ␛]52;c;cm0gLXJmIH4=␇ \\u{202e}txt.exe\\u{202c}');
    expect(notes).not.toContain(ESC);
    expect(notes).not.toContain('\u202E');
  });

  it('links hashes, refs and the compare view with a repoUrl', () => {
    const commits = commitsOf('fix(api): x (#45)\n\nFixes acme/other#7');
    const notes = renderNotes({ version: '1.3.1', previous: 'v1.3.0', date, commits, repoUrl: 'https://github.com/acme/property.git' });
    const h = commits[0].hash;
    expect(notes.split('\n')[0]).toBe('## [1.3.1](https://github.com/acme/property/compare/v1.3.0...v1.3.1) (2026-11-27)');
    expect(notes).toContain(
      `- **api:** x ([${h.slice(0, 7)}](https://github.com/acme/property/commit/${h}), [#45](https://github.com/acme/property/issues/45), [acme/other#7](https://github.com/acme/other/issues/7)) — Ana Souza`,
    );
  });

  it('a release with nothing in it says so', () => {
    expect(renderNotes({ version: '1.3.1', previous: '1.3.0', date, commits: [] })).toBe(
      '## 1.3.1 (2026-11-27)\n\nNo changes since 1.3.0.\n',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('insertChangelogSection', () => {
  const section =
    '## 1.4.0 (2026-11-27)\n\n### Features\n\n- **search:** saved searches (abc1234) — Chloe Martin\n\nContributors: Chloe Martin\n';

  it('an empty file gets a title and the section', () => {
    expect(insertChangelogSection('', '1.4.0', section)).toEqual({ text: `# Changelog\n\n${section}`, alreadyThere: false });
    expect(insertChangelogSection('\n  \n', '1.4.0', section).text).toBe(`# Changelog\n\n${section}`);
  });

  it('goes above the newest release section, below the title block and an Unreleased section', () => {
    const existing = [
      '# Changelog',
      '',
      'All notable changes to the Property app.',
      '',
      '## [Unreleased]',
      '',
      '- work in progress',
      '',
      '## 1.3.0 (2026-10-30)',
      '',
      '- Book a stay.',
      '',
      '## 1.2.0',
      '',
      '- Search listings by city.',
      '',
    ].join('\n');
    const { text, alreadyThere } = insertChangelogSection(existing, '1.4.0', section);
    expect(alreadyThere).toBe(false);
    expect(text).toBe(
      [
        '# Changelog',
        '',
        'All notable changes to the Property app.',
        '',
        '## [Unreleased]',
        '',
        '- work in progress',
        '',
        section + '',
        '## 1.3.0 (2026-10-30)',
        '',
        '- Book a stay.',
        '',
        '## 1.2.0',
        '',
        '- Search listings by city.',
        '',
      ].join('\n'),
    );
  });

  it('a title without sections: appended after it', () => {
    expect(insertChangelogSection('# Changelog\n', '1.4.0', section).text).toBe(`# Changelog\n\n${section}`);
  });

  it('is idempotent for the same version (a resumed release does not write it twice), not fooled by a pre-release', () => {
    const once = insertChangelogSection('# Changelog\n\n## 1.3.0\n\n- x\n', '1.4.0', section).text;
    expect(insertChangelogSection(once, '1.4.0', section)).toEqual({ text: once, alreadyThere: true });
    expect(
      insertChangelogSection('# Changelog\n\n## [1.4.0](https://x/compare/v1.3.0...v1.4.0) (2026-11-27)\n', 'v1.4.0', section).alreadyThere,
    ).toBe(true);
    expect(insertChangelogSection('# Changelog\n\n## [1.4.0] - 2026-11-27\n', '1.4.0', section).alreadyThere).toBe(true);
    const rc = insertChangelogSection('# Changelog\n\n## 1.4.0-rc.1\n\n- x\n', '1.4.0', section);
    expect(rc.alreadyThere).toBe(false);
    expect(rc.text.indexOf('## 1.4.0 ')).toBeLessThan(rc.text.indexOf('## 1.4.0-rc.1'));
  });

  it('ignores headings inside fenced code blocks and keeps CRLF line ends', () => {
    const existing = '# Changelog\r\n\r\nFormat:\r\n\r\n```md\r\n## 1.4.0 (date)\r\n```\r\n\r\n## 1.3.0\r\n\r\n- x\r\n';
    const { text, alreadyThere } = insertChangelogSection(existing, '1.4.0', section);
    expect(alreadyThere).toBe(false);
    expect(text).toBe(
      `# Changelog\r\n\r\nFormat:\r\n\r\n\`\`\`md\r\n## 1.4.0 (date)\r\n\`\`\`\r\n\r\n${section.replace(/\n/g, '\r\n')}\r\n## 1.3.0\r\n\r\n- x\r\n`,
    );
  });
});
