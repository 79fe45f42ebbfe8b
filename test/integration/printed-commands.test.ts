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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit } from '../helpers/cli.js';
import { splitFences } from '../helpers/markdown.js';

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
