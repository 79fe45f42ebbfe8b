/**
 * Every command the cockpit prints runs as printed, wherever it is pasted (issue 14), and `audit show` has everything:
 * each step's output (a long one cut to its head and tail, with the command that prints all of it), the parameters
 * with secrets masked, notes, skips with their reasons, durations. Real git repositories, the real CLI, and the
 * printed lines run through a real shell from other directories.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { startDeployTarget } from '../helpers/deploy-target.js';
import { BIN, cockpit, jsonLines } from '../helpers/cli.js';
import { shellQuote } from '../../src/core/command-line.js';
import { splitFences } from '../helpers/markdown.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  prometheusTest,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

const GATED = `id: gated
title: Gated
steps:
  - {id: first, title: First, kind: run, run: "echo first ran"}
  - {id: gate, title: Gate, kind: confirm, prompt: "go on?"}
  - {id: last, title: Last, kind: run, run: "echo last ran"}
`;

const REPORT = `id: report
title: Report
params:
  api_key: {type: string, secret: true}
  target: {type: string, default: staging}
steps:
  - {id: long, title: Long output, kind: run, run: "seq 1 500"}
  - id: hostile
    title: Hostile output
    kind: run
    run: "echo '<img src=x onerror=alert(1)>'; echo '![pixel](http://evil.example/p.png)'; echo 'key is' \\"$COCKPIT_PARAM_API_KEY\\""
  - {id: never, title: Never here, kind: run, run: "echo no", when: {target: [production]}}
  - {id: gate, title: Gate, kind: confirm, prompt: "ship it?"}
  - {id: fails, title: Fails, kind: run, run: "echo about to fail; exit 4"}
`;

let tmp: string;
/** The repository: its name has a space and a quote, so a printed path must be quoted to run. */
let repoDir: string;
/** A folder with a `cockpit` on PATH, as an installed cockpit would be. */
let binDir: string;

function dir(name: string): string {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A line the cockpit printed, pasted into a shell in `cwd`. */
function paste(line: string, cwd: string) {
  const r = spawnSync('sh', ['-c', line], {
    cwd,
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command after `label` on a line of `text` (to the end of the line, or to the next three spaces). */
function printed(text: string, label: string): string {
  const at = text.indexOf(label);
  expect(at, `"${label}" in:\n${text}`).toBeGreaterThanOrEqual(0);
  return text
    .slice(at + label.length)
    .split('\n')[0]
    .split('   ')[0]
    .trim();
}

/** `repoDir` as a printed command quotes it. */
const quotedRepo = () => `--repo ${shellQuote(repoDir)}`;

/** A commit tagged v1.0.0 on main: a release to hotfix and to roll back to. */
function released(): void {
  const git = (...args: string[]) =>
    expect(spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repoDir }).status).toBe(0);
  git('commit', '-q', '--allow-empty', '-m', 'feat: first release');
  git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
}

const ids = () => JSON.parse(cockpit(['--repo', repoDir, 'audit', 'list', '--json']).stdout).map((s: { id: string }) => s.id) as string[];

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-printed-'));
  repoDir = dir("the team's repo");
  spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: repoDir });
  mkdirSync(path.join(repoDir, 'checklists'));
  writeFileSync(path.join(repoDir, 'checklists', 'gated.yaml'), GATED);
  writeFileSync(path.join(repoDir, 'checklists', 'report.yaml'), REPORT);
  binDir = dir('bin');
  writeFileSync(path.join(binDir, 'cockpit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(path.join(binDir, 'cockpit'), 0o755);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('printed commands run as printed', () => {
  it('the resume a stopped run prints in a subdirectory works there; printed elsewhere it has --repo and resumes from any directory', () => {
    const sub = path.join(repoDir, 'deploy', 'scripts');
    mkdirSync(sub, { recursive: true });
    const inside = cockpit(['run', 'gated', '--non-interactive'], { cwd: sub });
    expect(inside.code, inside.stderr).toBe(1);
    const hereHint = printed(inside.stdout, 'to confirm it and continue: ');
    expect(hereHint).toMatch(/^cockpit resume \S+ --non-interactive --yes gate$/); // inside the repository: no --repo needed
    const resumedHere = paste(hereHint, sub);
    expect(resumedHere.code, resumedHere.stderr).toBe(0);
    expect(resumedHere.stdout).toContain('last ran');

    const other = dir('other');
    const outside = cockpit(['--repo', path.relative(other, repoDir), 'run', 'gated', '--non-interactive'], { cwd: other });
    expect(outside.code, outside.stderr).toBe(1);
    const hint = printed(outside.stdout, 'to confirm it and continue: ');
    expect(hint).toContain(`--repo '${repoDir.replace(/'/g, `'\\''`)}'`);
    const third = dir('somewhere else');
    const resumed = paste(hint, third);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('last ran');
    const status = JSON.parse(cockpit(['--repo', repoDir, 'audit', 'list', '--json']).stdout).map((s: { status: string }) => s.status);
    expect(status).toEqual(['succeeded', 'succeeded']);
    // No audit log was made where the commands were pasted.
    expect(existsSync(path.join(third, '.cockpit'))).toBe(false);
    expect(existsSync(path.join(other, '.cockpit'))).toBe(false);

    // What the old hint (no --repo) did pasted there: now a refusal, not a new empty log.
    const bare = paste(`cockpit resume ${ids()[0]}`, third);
    expect(bare.code).toBe(2);
    expect(existsSync(path.join(third, '.cockpit'))).toBe(false);
  });

  it('outside a git repository a command that would make an audit log refuses and says to pass --repo; reads create nothing', () => {
    const plain = dir('not-a-repo');
    const file = path.join(repoDir, 'checklists', 'gated.yaml');
    for (const args of [
      ['run', file, '--non-interactive'],
      ['note', 'x', 'a note'],
      ['abort', 'x', '--reason', 'r'],
      ['resume', 'x'],
    ]) {
      const r = cockpit(args, { cwd: plain });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('not inside a git repository');
      expect(r.stderr).toContain('pass --repo <dir>');
    }
    for (const args of [
      ['audit', 'list'],
      ['audit', 'show', 'x'],
      ['audit', 'verify'],
    ])
      cockpit(args, { cwd: plain });
    expect(existsSync(path.join(plain, '.cockpit'))).toBe(false);
    // With --repo it works from there.
    const r = cockpit(['--repo', repoDir, 'run', 'gated', '--non-interactive', '--yes', 'all'], { cwd: plain });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(plain, '.cockpit'))).toBe(false);
  });
});

describe('hints that name the command to run instead', () => {
  it('no terminal: the run again, its checklist and parameters (not the secret one) in it, runnable from anywhere', () => {
    const other = dir('other');
    const r = cockpit(['--repo', repoDir, 'run', 'report', '-p', 'api_key=k3y-s3cret-value', '-p', 'target=qa env'], { cwd: other });
    expect(r.code).toBe(2);
    const hint = printed(r.stderr, 'Run non-interactively: ').replace(/ \[--yes all\|step,step\] \[--json\]$/, '');
    expect(hint).toBe(`cockpit ${quotedRepo()} run report -p 'target=qa env' --non-interactive`);
    expect(r.stderr).not.toContain('k3y-s3cret-value');
    // Pasted elsewhere with the secret again and --yes: it runs (to the step that fails, as the checklist says).
    const ran = paste(`${hint} -p api_key=k3y-s3cret-value --yes all`, dir('third'));
    expect(ran.stderr).toContain("step 'fails' (Fails) failed");
    expect(JSON.parse(cockpit(['--repo', repoDir, 'audit', 'list', '--json']).stdout)[0].params).toContain('target=qa env');
    // A resume says resume, with the session.
    const id = ids()[0];
    const resume = cockpit(['--repo', repoDir, 'resume', id], { cwd: other });
    expect(resume.code).toBe(2);
    expect(printed(resume.stderr, 'Run non-interactively: ')).toBe(
      `cockpit ${quotedRepo()} resume ${id} --non-interactive [--yes all|step,step] [--json]`,
    );
  });

  it('hotfix without its issue: the usage and the example carry --repo', () => {
    released();
    const r = cockpit(['--repo', repoDir, 'hotfix', '--non-interactive'], { cwd: dir('other') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`e.g. cockpit ${quotedRepo()} hotfix PROP-123`);
    const dry = paste(`${printed(r.stderr, 'e.g. ')} --dry-run`, dir('third'));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run');
  });

  it("the approve step names the session's own approve command once it runs (a dry run, which has none, says <session>)", () => {
    writeFileSync(
      path.join(repoDir, 'checklists', 'approved.yaml'),
      'id: approved\ntitle: Approved\nsteps:\n  - {id: ok, title: Senior approval, kind: approve}\n',
    );
    const other = dir('other');
    const dry = cockpit(['--repo', repoDir, 'run', 'approved', '--dry-run'], { cwd: other });
    expect(dry.stdout).toContain(`they run cockpit ${quotedRepo()} approve <session>)`);
    // No approvers: configured, so it fails at once; what it said it waits for is in the log.
    cockpit(['--repo', repoDir, 'run', 'approved', '--non-interactive'], { cwd: other });
    const id = ids()[0];
    const json = JSON.parse(cockpit(['--repo', repoDir, 'audit', 'show', id, '--format', 'json']).stdout);
    const started = json.events.find((e: { type: string }) => e.type === 'step.started');
    expect(started.data.description).toContain(`they run cockpit ${quotedRepo()} approve ${id})`);
  });
});

const pg = pgTest();

describe.skipIf(!pg.url)(`migrate advice runs as printed${pg.skipReason}`, () => {
  const migration = (rel: string, text: string) => {
    mkdirSync(path.join(repoDir, 'db', 'migrations'), { recursive: true });
    writeFileSync(path.join(repoDir, 'db', 'migrations', rel), text);
  };

  it('a failed no-transaction migration: status, then resolve, each printed with --repo, --dir and --database-url', async () => {
    const url = await freshDatabase('printed');
    migration(
      '20240101000000_boom.sql',
      '-- migrate:no-transaction\n-- migrate:up\nCREATE TABLE a (id int);\nSELECT 1/0;\n-- migrate:down\nDROP TABLE IF EXISTS a;\n',
    );
    const other = dir('other');
    const up = cockpit(['--repo', repoDir, 'migrate', 'upgrade', '--dir', 'db/migrations', '--database-url', url], { cwd: other });
    expect(up.code, up.stderr).toBe(1);
    const where = `--dir ${shellQuote(path.join(repoDir, 'db', 'migrations'))} --database-url ${url}`;
    const status = /recorded as failed; see (.*), then resolve/.exec(up.stdout + up.stderr)?.[1];
    expect(status).toBe(`cockpit ${quotedRepo()} migrate status ${where}`);
    const third = dir('third');
    const st = paste(status!, third);
    expect(st.stdout + st.stderr).toContain('20240101000000');
    const resolve = /`(cockpit [^`]* migrate resolve 20240101000000 --rolled-back[^`]*)`/.exec(st.stdout + st.stderr)?.[1];
    expect(resolve).toBe(`cockpit ${quotedRepo()} migrate resolve 20240101000000 --rolled-back ${where}`);
    expect(st.stdout + st.stderr).toContain(`\`cockpit ${quotedRepo()} migrate resolve 20240101000000 --applied ${where}\``);
    const done = paste(resolve!, third);
    expect(done.code, done.stderr).toBe(0);
    const after = paste(status!, third);
    expect(after.stdout + after.stderr).not.toContain('resolve 20240101000000');
  });

  it("a checklist's migrate step that fails the same way names the status command as the operator runs it, from elsewhere", async () => {
    const url = await freshDatabase('printed_step');
    writeFileSync(path.join(repoDir, 'cockpit.config.yaml'), `database:\n  url: ${url}\n  migrations: db/migrations\n`);
    migration(
      '20240101000000_boom.sql',
      '-- migrate:no-transaction\n-- migrate:up\nCREATE TABLE a (id int);\nSELECT 1/0;\n-- migrate:down\nDROP TABLE IF EXISTS a;\n',
    );
    writeFileSync(
      path.join(repoDir, 'checklists', 'migrating.yaml'),
      'id: migrating\ntitle: Migrating\nsteps:\n  - {id: up, title: Upgrade, kind: migrate, action: upgrade, onFailure: stop}\n',
    );
    const r = cockpit(['--repo', repoDir, 'run', 'migrating', '--non-interactive'], { cwd: dir('other') });
    expect(r.code, r.stderr).toBe(1);
    const status = /recorded as failed; see (.*?), then resolve/.exec(r.stdout + r.stderr)?.[1];
    expect(status).toBe(`cockpit ${quotedRepo()} migrate status`);
    const st = paste(status!, dir('third'));
    expect(st.stdout + st.stderr).toContain(`\`cockpit ${quotedRepo()} migrate resolve 20240101000000 --applied\``);
  });

  it('lint of a file that does not load says to lint again with a command that lints the same folder from anywhere', () => {
    migration('20240102000000_bad.sql', 'CREATE TABLE b (id int);\n'); // no -- migrate:up section
    const r = cockpit(['--repo', repoDir, 'migrate', 'lint', '--dir', 'db/migrations'], { cwd: dir('other') });
    const again = /then run (.*) again/.exec(r.stdout)?.[1];
    expect(again).toContain(`cockpit ${quotedRepo()} migrate lint --dir `);
    const pasted = paste(again!, dir('third'));
    expect(pasted.stdout).toContain('20240102000000_bad.sql could not be loaded');
  });
});

const prom = prometheusTest();

describe.skipIf(!prom.ok)(`the watch's rollback advice runs as printed${prom.skipReason}`, () => {
  let svc: MetricsService;
  let server: PromServer;
  beforeAll(async () => {
    ({ svc, prom: server } = await startWatchedService());
    await paymentsFlowing(server);
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  it(
    'a breach says roll back with run rollback-code --recovery-since <this session>; pasted elsewhere, its clock counts from the breach',
    { timeout: 90_000 },
    async () => {
      released();
      // rollback-code drives the production deploy script: a real one, its colours and live URL on free ports.
      const target = await startDeployTarget(repoDir, (rel, text) => {
        const file = path.join(repoDir, rel);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text, { mode: 0o755 });
        return file;
      });
      onTestFinished(() => target.close());
      writeFileSync(
        path.join(repoDir, 'cockpit.config.yaml'),
        `watch:\n  prometheus:\n    url: ${server.url}\n  window: 10s\n  disable: [error_rate_increase, latency_p95_increase, failed_payments_any]\n` +
          `deploy:\n${target.config({ production: 'blue-green' })}\n`,
      );
      await svc.set({ paymentFailureRatio: 0.05 });
      let watch;
      try {
        watch = cockpit(['--repo', repoDir, 'watch', '--headless', '--duration', '60s', '--interval', '1s'], { cwd: dir('other') });
      } finally {
        await svc.set({ paymentFailureRatio: 0 });
      }
      expect(watch.code, watch.stderr).toBe(1);
      const watchId = ids()[0];
      // Headless, the watch writes its events as JSON lines: the step's failure says what to decide.
      const failed = jsonLines(watch.stdout).find((e) => e.type === 'step.failed');
      const advice = /Decide: roll back \((.*?)\), or skip/.exec(String(failed?.data.reason))?.[1];
      expect(advice).toBe(`cockpit ${quotedRepo()} run rollback-code --recovery-since ${watchId}`);
      const r = paste(`${advice} -p version=1.0.0 --non-interactive --yes all`, dir('third'));
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const rollback = JSON.parse(cockpit(['--repo', repoDir, 'audit', 'list', '--json']).stdout).find(
        (s: { checklist: string }) => s.checklist === 'rollback-code',
      ).id;
      const json = JSON.parse(cockpit(['--repo', repoDir, 'audit', 'show', rollback, '--format', 'json']).stdout);
      expect(json.session.recovery).toMatchObject({ from: 'breach', breach: { session: watchId } });
    },
  );
});

describe('audit show has everything', () => {
  /** A session with a long output, hostile output, a secret, a condition skip, an operator skip, a note and a failure. */
  function session(): string {
    const c = (...a: string[]) => cockpit(['--repo', repoDir, ...a], { cwd: repoDir });
    const r = c('run', 'report', '-p', 'api_key=k3y-s3cret-value', '--non-interactive');
    expect(r.code, r.stderr).toBe(1); // waits at the gate
    const id = ids()[0];
    const skip = c('resume', id, '--non-interactive', '--skip', 'gate', '--reason', 'approved in CHG-42', '-p', 'api_key=k3y-s3cret-value');
    expect(skip.code).toBe(1); // `fails` fails
    expect(c('note', id, 'rolled back by hand <b>see</b> ![x](http://evil.example/n.png)', '--step', 'fails').code).toBe(0);
    return id;
  }

  it('text: each step output, the cut with a command that prints all of it from anywhere, secrets masked, notes, skips, durations', () => {
    const id = session();
    const elsewhere = dir('elsewhere');
    const show = cockpit(['--repo', repoDir, 'audit', 'show', id], { cwd: elsewhere });
    expect(show.code, show.stderr).toBe(0);
    const t = show.stdout;
    expect(t).toContain('Parameters:  api_key=[REDACTED], target=staging');
    expect(t).not.toContain('k3y-s3cret-value');
    expect(t).toMatch(/Output of 'long': 500 lines\n {2}│ 1\n {2}│ 2\n/);
    expect(t).toMatch(/ {2}│ 499\n {2}│ 500\n/);
    expect(t).not.toMatch(/│ 250\n/);
    expect(t).toContain('key is [REDACTED]');
    expect(t).toMatch(/Output of 'fails': 1 line\n {2}│ about to fail/);
    expect(t).toMatch(/Never here \(never\) — skipped — when: target is "staging", not "production"/);
    expect(t).toMatch(/step 'gate' skipped by the operator: approved in CHG-42/);
    expect(t).toMatch(/Notes:\n .*tester on 'fails': rolled back by hand <b>see<\/b>/);
    expect(t).toMatch(/Long output \(long\) — passed \d+(ms|\.\ds) exit 0/);
    expect(t).toMatch(/Fails \(fails\) — failed \d+(ms|\.\ds) exit 4/);

    // The cut names how many lines it left out and the command for all of them, which runs as printed elsewhere.
    const omitted = /… (\d+) lines omitted; all of it: (.*)\n/.exec(t);
    expect(omitted?.[1]).toBe('470');
    const all = paste(omitted![2], dir('yet another'));
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe(Array.from({ length: 500 }, (_, i) => `${i + 1}\n`).join(''));
    // And how to go on, runnable from here (in a terminal it asks; here it is told not to, and the secret again).
    const retry = paste(`${printed(t, 'To continue: ')} --non-interactive -p api_key=k3y-s3cret-value`, elsewhere);
    expect(retry.stderr).toContain("step 'fails' (Fails) failed"); // it ran again (and failed again): the session was found
  });

  it('Markdown: output in fenced blocks, nothing from outside forms HTML, an image or a link; the same cut and command', () => {
    const id = session();
    const show = cockpit(['--repo', repoDir, 'audit', 'show', id, '--format', 'md'], { cwd: dir('elsewhere') });
    expect(show.code, show.stderr).toBe(0);
    const { prose, fences } = splitFences(show.stdout);
    expect(prose).not.toMatch(/<img|<b>/i);
    expect(prose).not.toContain('![');
    expect(prose).not.toContain('](http');
    expect(prose).toContain('rolled back by hand &lt;b&gt;see&lt;/b&gt;');
    expect(prose).toContain('api\\_key=&#91;REDACTED&#93;');
    expect(show.stdout).not.toContain('k3y-s3cret-value');
    expect(prose).toContain('- `gate` Gate: approved in CHG-42');
    expect(prose).toContain('- `never` Never here: when: target is "staging", not "production"');
    expect(prose).toMatch(/\| Long output `long` \| run \| ✔ passed \| \d+(ms|\.\ds) \| 0 \|/);
    expect(fences).toContainEqual(['<img src=x onerror=alert(1)>', '![pixel](http://evil.example/p.png)', 'key is [REDACTED]']);
    expect(fences).toContainEqual(Array.from({ length: 10 }, (_, i) => String(i + 1)));
    expect(fences).toContainEqual(Array.from({ length: 20 }, (_, i) => String(481 + i)));
    const cmd = /`… 470 lines omitted; all of it: (cockpit [^`]*)`/.exec(prose)?.[1];
    expect(cmd).toContain('--step long');
    const all = paste(`${cmd} --format md`, dir('yet another'));
    expect(all.code, all.stderr).toBe(0);
    expect(splitFences(all.stdout).fences).toEqual([Array.from({ length: 500 }, (_, i) => String(i + 1))]);
    const json = JSON.parse(paste(`${cmd} --format json`, tmp).stdout);
    expect(json.output.map((o: { text: string }) => o.text).join('')).toBe(Array.from({ length: 500 }, (_, i) => `${i + 1}\n`).join(''));
  });

  it('--step names an unknown step: exit 2 listing the steps', () => {
    const id = session();
    const r = cockpit(['--repo', repoDir, 'audit', 'show', id, '--step', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('its steps: long, hostile, never, gate, fails');
    // A session that is not there: the listing it points at runs as printed from where it was said.
    const other = dir('other');
    const missing = cockpit(['--repo', repoDir, 'audit', 'show', 'nope'], { cwd: other });
    expect(missing.code).toBe(2);
    const list = paste(printed(missing.stderr, '(see: ').replace(/\)$/, ''), other);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
  });
});
