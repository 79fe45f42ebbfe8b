/**
 * Release notes over a 10,000-commit history, beside `git log --oneline` of the same range in the same run.
 *
 *   node --import tsx scripts/bench/release-notes.ts [--commits N] [--runs N]     (defaults: 10,000 commits, 5 runs)
 *
 * A throwaway git repository is made with `git fast-import` (as the demo sandbox is, src/cli/sandbox.ts): a tagged
 * start (v0), then N commits on main with a realistic mix: conventional types and scopes, bodies, footers
 * (Closes #n, Refs, BREAKING CHANGE), '!' headers, "(#n)" squash suffixes, non-conventional messages, and every
 * ~40 commits a feature branch of 2–4 commits merged with a merge commit. It is imported in two halves so that the
 * second half can revert commits of the first by their real hashes (reverted pairs in the range), besides reverts
 * of commits from before the range. Then, interleaved (one of each per round, after a warm-up round):
 *
 *   (a) `git log --oneline v0..HEAD`, a child process whose output is read fully: the baseline;
 *   (b) the whole notes pipeline: `git log -z --format=%H%x00%P%x00%an%x00%ae%x00%at%x00%B v0..HEAD` (a child
 *       process, output read fully) → split into RawCommit → parseCommit each → suggestVersion → renderNotes.
 *
 * Medians of the rounds; (b)/(a) as a ratio; and where (b)'s time goes. A report, not a test: exit 0 either way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CommitParser } from 'conventional-commits-parser';
import { parseCommit, releaseCommits, suggestVersion, type ParsedCommit, type RawCommit } from '../../src/core/release/commits.js';
import { renderNotes } from '../../src/core/release/notes.js';
import { runBenchmark } from './run.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return (i > 0 && Number(process.argv[i + 1])) || dflt;
};
const COMMITS = arg('--commits', 10_000);
const RUNS = arg('--runs', 5);

/** git with nothing from the user's or system's configuration (as the demo sandbox). */
const gitEnv: NodeJS.ProcessEnv = (() => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
})();

function gitSync(cwd: string, args: string[], input?: string): string {
  const r = spawnSync('git', args, { cwd, env: gitEnv, input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A git child process, its whole stdout read. */
function gitOut(cwd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: gitEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The history

/** A small deterministic PRNG (mulberry32), so every run builds the same history. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261127);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const AUTHORS = [
  'Ana Souza',
  'Ben Okafor',
  'Chloe Martin',
  'Dev Patel',
  'Emma Larsen',
  'Farid Haddad',
  'Grace Kim',
  'Hugo Moreau',
  'Ines Duarte',
  'Jonas Weber',
  'Keiko Tanaka',
  'Liam Byrne',
  'Maya Cohen',
  'Nils Berg',
  'Olga Ivanova',
  'Pedro Alves',
  'Qi Zhang',
  'Rosa Delgado',
  'Sam Taylor',
  'Tariq Aziz',
  'Uma Rao',
  'Victor Hugo',
  'Wen Li',
  'dependabot[bot]',
];
const SCOPES = [
  'search',
  'booking',
  'payments',
  'listings',
  'api',
  'ui',
  'auth',
  'db',
  'notifications',
  'i18n',
  'deps',
  'frontend',
  'backend',
];
const WHAT = [
  'filter listings by price range',
  'retry a declined card once',
  'check-in time in the listing time zone',
  'e-mail a confirmation to the guest',
  'count the listings of a city once',
  'hide listings without a price',
  'normalise accents in the search box',
  'take a 30% deposit at booking',
  'one gateway client per request',
  'cache the currency rates for an hour',
  'paginate the host dashboard',
  'show the cancellation policy',
  'refuse bookings longer than 90 nights',
  'log slow queries over 200 ms',
  'translate the checkout into German',
];
// Weighted as in a busy product repository.
const TYPES = [
  'feat',
  'feat',
  'feat',
  'fix',
  'fix',
  'fix',
  'fix',
  'chore',
  'chore',
  'docs',
  'refactor',
  'refactor',
  'test',
  'ci',
  'build',
  'perf',
  'style',
];
const BODY = [
  'The previous behaviour surprised hosts in other time zones: the check-in hour was read in UTC.',
  'Measured on the staging data set: the query went from 480 ms to 35 ms.\n\nThe index is created concurrently.',
  'Card issuers decline a first attempt now and then; a second one usually passes.',
  'Found while testing the release candidate.\n\n- the old endpoint stays for a month\n- clients are told in the response header',
];

interface Spec {
  message: string;
  author: string;
}

function message(i: number, revertable: string[]): Spec {
  const author = pick(AUTHORS);
  const r = rand();
  if (r < 0.05)
    return {
      author,
      message: pick([
        'Update README.md',
        'wip',
        'fix typo',
        'Bump version',
        'address review comments',
        'Apply suggestions from code review',
      ]),
    };
  if (r < 0.065 && revertable.length) {
    const h = revertable.splice(Math.floor(rand() * revertable.length), 1)[0];
    return { author, message: `Revert "${pick(TYPES)}: ${pick(WHAT)}"\n\nThis reverts commit ${h}.\n` };
  }
  const type = author === 'dependabot[bot]' ? 'chore' : pick(TYPES);
  const scope = type === 'chore' && author === 'dependabot[bot]' ? 'deps' : rand() < 0.7 ? pick(SCOPES) : null;
  const bang = rand() < 0.004 ? '!' : '';
  const subject = author === 'dependabot[bot]' ? `bump vite from 5.${i % 9}.0 to 5.${(i % 9) + 1}.0 in /frontend` : pick(WHAT);
  const pr = rand() < 0.35 ? ` (#${1000 + i})` : '';
  let msg = `${type}${scope ? `(${scope})` : ''}${bang}: ${subject}${pr}`;
  const footers: string[] = [];
  if (rand() < 0.3) msg += `\n\n${pick(BODY)}`;
  if (rand() < 0.12) footers.push(`Closes #${500 + (i % 700)}`);
  if (rand() < 0.04) footers.push(`Refs: acme/frontend#${i % 300}`);
  if (rand() < 0.006) footers.push('BREAKING CHANGE: the /v1 endpoints are gone; clients must use /v2');
  if (rand() < 0.1) footers.push(`Co-authored-by: ${pick(AUTHORS)} <dev@property.example>`);
  if (footers.length) msg += `\n\n${footers.join('\n')}`;
  return { author, message: msg + '\n' };
}

/**
 * A fast-import stream of `count` commits after `from` (a mark or a sha), starting at mark `markBase`: main with a
 * merged feature branch every ~40 commits. Returns the stream and the mark of main's tip.
 */
function stream(
  count: number,
  markBase: number,
  from: string,
  when0: number,
  revertable: string[],
): { text: string; tip: number; next: number; when: number } {
  const out: string[] = [];
  const data = (s: string) => out.push(`data ${Buffer.byteLength(s)}\n${s}\n`);
  let mark = markBase;
  let tip = from;
  let when = when0;
  let made = 0;
  const commit = (ref: string, parent: string, spec: Spec, merge?: string) => {
    when += 60 + Math.floor(rand() * 3000);
    const email = `${spec.author.toLowerCase().replace(/[^a-z]+/g, '.')}@property.example`;
    const who = `${spec.author} <${email}> ${when} +0000`;
    out.push(`commit ${ref}\nmark :${++mark}\nauthor ${who}\ncommitter ${who}\n`);
    data(spec.message);
    out.push(`from ${parent}\n`);
    if (merge) out.push(`merge ${merge}\n`);
    out.push(`M 100644 inline src/module-${mark % 97}.txt\n`);
    data(`change ${mark}\n`);
    out.push('\n');
    made++;
    return `:${mark}`;
  };
  while (made < count) {
    if (made > 0 && made % 40 === 0 && count - made >= 6) {
      // A feature branch of 2–4 commits from main's tip, merged back with a merge commit.
      const branch = `refs/heads/feature-${mark}`;
      let side = tip;
      const n = 2 + Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) side = commit(branch, side, message(mark, revertable));
      const pr = 2000 + mark;
      const merge: Spec =
        rand() < 0.5
          ? { author: pick(AUTHORS), message: `Merge pull request #${pr} from acme/feature-${mark}\n\n${pick(WHAT)}\n` }
          : { author: pick(AUTHORS), message: `Merge branch 'feature-${mark}' into main\n` };
      tip = commit('refs/heads/main', tip, merge, side);
      out.push(`reset ${branch}\nfrom 0000000000000000000000000000000000000000\n\n`); // drop the branch ref
      continue;
    }
    tip = commit('refs/heads/main', tip, message(mark, revertable));
  }
  return { text: out.join(''), tip: Number(tip.slice(1)), next: mark, when };
}

function buildRepo(dir: string): { range: number } {
  gitSync(dir, ['init', '-q', '-b', 'main']);
  const marks = path.join(dir, '.git', 'bench-marks');
  const t0 = 1_700_000_000;
  // The start: one commit, tagged v0.
  const start = `commit refs/heads/main\nmark :1\nauthor Ana Souza <ana@property.example> ${t0} +0000\ncommitter Ana Souza <ana@property.example> ${t0} +0000\ndata 25\nchore: import the project\nM 100644 inline README.md\ndata 11\n# Property\n\nreset refs/tags/v0\nfrom :1\n\n`;
  // Before the range: reverts in the first half point at commits that are not in it.
  const outside = Array.from({ length: 60 }, (_, k) => gitHashLike(`before-${k}`));
  const first = stream(Math.floor(COMMITS / 2), 1, ':1', t0, outside);
  gitSync(dir, ['fast-import', '--quiet', `--export-marks=${marks}`], start + first.text + 'done\n');
  // The second half can revert commits of the first by their real hashes.
  const inRange = readFileSync(marks, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((_h, k) => k > 0 && k % 37 === 0);
  const second = stream(COMMITS - Math.floor(COMMITS / 2), first.next, `:${first.tip}`, first.when, inRange);
  gitSync(dir, ['fast-import', '--quiet', `--import-marks=${marks}`], second.text + 'done\n');
  gitSync(dir, ['reset', '-q', '--hard', 'main']);
  const range = Number(gitSync(dir, ['rev-list', '--count', 'v0..HEAD']).trim());
  return { range };
}

function gitHashLike(s: string): string {
  let h = '';
  const r = rng([...s].reduce((a, c) => a * 31 + c.charCodeAt(0), 7));
  while (h.length < 40) h += Math.floor(r() * 16).toString(16);
  return h;
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline

const FORMAT = '--format=%H%x00%P%x00%an%x00%ae%x00%at%x00%B';

/** `git log -z` output with FORMAT → RawCommit[]: six NUL-separated fields per commit, commits separated by NUL. */
function splitLog(text: string): RawCommit[] {
  const f = text.split('\0');
  const out: RawCommit[] = [];
  for (let i = 0; i + 5 < f.length; i += 6) {
    out.push({
      hash: f[i].replace(/^\n/, ''),
      parents: f[i + 1] ? f[i + 1].split(' ') : [],
      authorName: f[i + 2],
      authorEmail: f[i + 3],
      date: Number(f[i + 4]) * 1000,
      message: f[i + 5],
    });
  }
  return out;
}

interface Timing {
  gitLog: number;
  split: number;
  parse: number;
  suggest: number;
  render: number;
  total: number;
  commits: number;
  notes: string;
  reason: string;
}

async function pipeline(dir: string): Promise<Timing> {
  const t0 = performance.now();
  const out = await gitOut(dir, ['log', '-z', FORMAT, 'v0..HEAD']);
  const t1 = performance.now();
  const raw = splitLog(out.toString('utf8'));
  const t2 = performance.now();
  const parsed: ParsedCommit[] = raw.map(parseCommit);
  const t3 = performance.now();
  const s = suggestVersion('v0.9.0', parsed);
  const t4 = performance.now();
  const notes = renderNotes({
    version: s.version ?? '0.9.1',
    previous: '0.9.0',
    date: Date.UTC(2026, 10, 27),
    commits: parsed,
    repoUrl: 'https://github.com/acme/property',
  });
  const t5 = performance.now();
  return {
    gitLog: t1 - t0,
    split: t2 - t1,
    parse: t3 - t2,
    suggest: t4 - t3,
    render: t5 - t4,
    total: t5 - t0,
    commits: raw.length,
    notes,
    reason: s.reason,
  };
}

async function oneline(dir: string): Promise<{ ms: number; lines: number }> {
  const t0 = performance.now();
  const out = await gitOut(dir, ['log', '--oneline', 'v0..HEAD']);
  const text = out.toString('utf8');
  const ms = performance.now() - t0;
  return { ms, lines: text.split('\n').length - 1 };
}

// ---------------------------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (v: number) => `${v.toFixed(1).padStart(8)} ms`;

function machine(): string[] {
  const cpus = os.cpus();
  return [
    `machine : ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `runtime : node ${process.version} (${process.platform}/${process.arch}), ${gitSync(os.tmpdir(), ['--version']).trim()}`,
    `load avg: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min; other work on the machine skews the figures)`,
  ];
}

async function main(): Promise<void> {
  console.log(
    `release-notes benchmark: notes over a ${COMMITS.toLocaleString('en-US')}-commit history beside git log --oneline of the same range`,
  );
  for (const l of machine()) console.log(l);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-notes-'));
  try {
    const b0 = performance.now();
    const { range } = buildRepo(dir);
    console.log(
      `history : ${range.toLocaleString('en-US')} commits in v0..HEAD (fast-import in ${((performance.now() - b0) / 1000).toFixed(1)} s), ${RUNS} rounds after 1 warm-up, interleaved`,
    );
    console.log('');

    await oneline(dir);
    await pipeline(dir);
    const a: number[] = [];
    const b: Timing[] = [];
    for (let r = 0; r < RUNS; r++) {
      a.push((await oneline(dir)).ms);
      b.push(await pipeline(dir));
    }
    const last = b[b.length - 1];
    const parsed = splitLog(gitSync(dir, ['log', '-z', FORMAT, 'v0..HEAD'])).map(parseCommit);
    const merges = parsed.filter((c) => c.merge).length;
    const reverts = parsed.filter((c) => c.group === 'revert').length;
    const nonConv = parsed.filter((c) => !c.conventional && !c.merge).length;
    const { cancelled } = releaseCommits(parsed);
    console.log(
      `range   : ${last.commits.toLocaleString('en-US')} commits read: ${merges} merges, ${reverts} reverts (${cancelled.length / 2} pairs cancel out in the range), ${nonConv} non-conventional`,
    );
    console.log(`suggest : ${last.reason.length > 160 ? `${last.reason.slice(0, 159)}…` : last.reason}`);
    console.log(
      `notes   : ${last.notes.split('\n').length.toLocaleString('en-US')} lines, ${(Buffer.byteLength(last.notes) / 1024).toFixed(0)} KiB`,
    );
    console.log('');

    const med = (k: keyof Omit<Timing, 'commits' | 'notes' | 'reason'>) => median(b.map((t) => t[k]));
    const A = median(a);
    const B = med('total');
    console.log(`                                                          median        min        max`);
    console.log(`(a) git log --oneline v0..HEAD (child, output read)   ${ms(A)} ${ms(Math.min(...a))} ${ms(Math.max(...a))}`);
    console.log(
      `(b) notes pipeline, end to end                         ${ms(B)} ${ms(Math.min(...b.map((t) => t.total)))} ${ms(Math.max(...b.map((t) => t.total)))}`,
    );
    console.log('');
    console.log(`ratio (b)/(a): ${(B / A).toFixed(1)}x`);
    console.log('');
    console.log('where (b) goes (medians of each part)');
    const parts: Array<[string, number]> = [
      ['git log -z with the full format (child, read)', med('gitLog')],
      ['split into RawCommit', med('split')],
      [`parseCommit × ${last.commits.toLocaleString('en-US')}`, med('parse')],
      ['suggestVersion', med('suggest')],
      ['renderNotes', med('render')],
    ];
    const sum = parts.reduce((s, [, v]) => s + v, 0);
    for (const [label, v] of parts) console.log(`  ${label.padEnd(50)} ${ms(v)}  ${((v / sum) * 100).toFixed(0).padStart(3)}%`);
    console.log(`  per commit, parseCommit: ${((med('parse') / last.commits) * 1000).toFixed(1)} µs`);
    // For comparison: the library's own parse of each whole message (what parseCommit avoids, see commits.ts).
    const raw = splitLog(gitSync(dir, ['log', '-z', FORMAT, 'v0..HEAD']));
    const lib = new CommitParser();
    const libRuns: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      for (const c of raw) if (c.message.trim()) lib.parse(c.message);
      libRuns.push(performance.now() - t0);
    }
    console.log(`  for comparison, CommitParser.parse of each whole message: ${ms(median(libRuns)).trim()} (median of 3)`);
    console.log('');
    console.log('(a report, not a test: no budget is set for this figure)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchmark(main);
