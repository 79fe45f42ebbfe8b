import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, jsonLines, tempRepo } from '../helpers/cli.js';

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
});
afterEach(() => repo.cleanup());

const c = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir });

const GATED = `id: gated
title: Gated
params:
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: prepare
    title: Prepare
    kind: run
    run: echo prepared >> ran.log
  - id: approval
    title: Approval from a senior developer
    kind: confirm
    prompt: Has a senior developer approved?
  - id: prod-only
    title: Production only
    kind: run
    run: echo prod >> ran.log
    when: {environment: production}
  - id: inner
    title: Included
    kind: checklist
    use: inner
    unless: {environment: staging}
  - id: done
    title: Done
    kind: confirm
`;
const INNER = `id: inner
title: Inner
steps:
  - id: one
    title: Inner one
    kind: run
    run: echo inner >> ran.log
`;

describe('checklist commands', () => {
  it('list shows the default checklists with titles, and repo checklists that override them', () => {
    repo.write('checklists/release.yaml', 'id: release\ntitle: Our own release\nsteps:\n  - {id: a, title: A, kind: confirm}\n');
    const r = c('checklist', 'list');
    expect(r.code).toBe(0);
    for (const id of [
      'release',
      'hotfix',
      'deploy-staging',
      'deploy-production',
      'migration',
      'rollback-code',
      'rollback-db',
      'post-deploy-watch',
      'communication',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${id}\\s+\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^release\s+Our own release\s+1\s+repo \(overrides default\)$/m);
    expect(r.stdout).toMatch(/^deploy-production\s+Production deployment \(blue\/green\)/m);
  });

  it('show prints the steps, includes expanded, with the policy help', () => {
    const r = c('checklist', 'show', 'deploy-production');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Production deployment (blue/green) [deploy-production]');
    expect(r.stdout).toMatch(/version \(semver, required/);
    expect(r.stdout).toMatch(/^ {4}\d+\. .*\[comms-during\/status-page-start\] \(notify\) — when/m); // an included step, by its path, one level deeper
  });

  it('validate exits 0 for good files and 2 with file:line:column for bad ones, all of them', () => {
    const good = repo.write('good.yaml', INNER);
    const bad = repo.write('bad.yaml', 'id: bad\ntitle: Bad\nsteps:\n  - id: x\n    title: X\n    kind: teleport\n');
    expect(c('checklist', 'validate', good).code).toBe(0);
    const r = c('checklist', 'validate', good, bad);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('ok  ');
    expect(r.stderr).toMatch(/bad\.yaml:6:11: step 'x': unknown step kind 'teleport'; expected one of: confirm, run, checklist/);
  });

  it('every default checklist validates', () => {
    const files = [
      'release',
      'hotfix',
      'deploy-staging',
      'deploy-production',
      'migration',
      'rollback-code',
      'rollback-db',
      'post-deploy-watch',
      'communication',
    ].map((id) => path.join(__dirname, '../../checklists', `${id}.yaml`));
    const r = c('checklist', 'validate', ...files);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('run', () => {
  it('a broken checklist is refused before anything runs: exit 2, file:line:column, no session', () => {
    const f = repo.write(
      'checklists/broken.yaml',
      'id: broken\ntitle: Broken\nsteps:\n  - id: a\n    title: A\n    kind: run\n    run: touch ran\n    tiemout: 5m\n',
    );
    const r = c('run', 'broken', '--non-interactive');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:8:5: unknown key 'tiemout' in step 'a' \(did you mean 'timeout'\?\)/);
    expect(existsSync(path.join(repo.dir, 'ran'))).toBe(false);
    expect(existsSync(path.join(repo.dir, '.cockpit', 'audit.db'))).toBe(false);
    expect(f).toBeTruthy();
  });

  it('bad parameters are refused with exit 2 before a session is made', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    const r1 = c('run', 'gated', '-p', 'environment=prod', '--non-interactive');
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/parameter 'environment' expects one of staging, production, got "prod"/);
    const r2 = c('run', 'gated', '-p', 'colour=red', '--non-interactive');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown parameter 'colour'/);
    const r3 = c('run', 'gated', '--non-interactive', '--yes', 'aproval');
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--yes names no step of 'gated': aproval/);
    expect(c('audit', 'list').stdout).toMatch(/no sessions yet/);
  });

  it('a confirm step stops a non-interactive run (exit 1, naming it and how to continue) unless --yes names it', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    const r = c('run', 'gated', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'approval' needs confirmation: Has a senior developer approved\?/);
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    expect(r.stdout).toContain(`resume ${id} --non-interactive --yes approval`);
    expect(JSON.parse(c('audit', 'list', '--json').stdout)[0].status).toBe('waiting (resumable)');

    const before = JSON.parse(c('audit', 'show', id, '--format', 'json').stdout).events.length;
    const typo = c('resume', id, '--non-interactive', '--yes', 'aproval');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--yes names no step of this session: aproval/);
    expect(JSON.parse(c('audit', 'show', id, '--format', 'json').stdout).events.length).toBe(before);
    const r2 = c('resume', id, '--non-interactive', '--yes', 'approval', '--json');
    expect(r2.code).toBe(1); // 'done' still needs a confirmation
    const ev = jsonLines(r2.stdout);
    expect(ev.find((e) => e.type === 'step.confirmed')).toMatchObject({
      stepId: 'approval',
      actor: 'tester',
      data: { via: 'flag', by: 'tester' },
    });
    // staging: the production-only step and the include are skipped, with the reason recorded
    expect(ev.filter((e) => e.type === 'step.skipped').map((e) => [e.stepId, e.data.reason])).toEqual([
      ['prod-only', 'when: environment is "staging", not "production"'],
      ['inner', 'unless: environment is "staging"'],
    ]);
    const r3 = c('resume', id, '--non-interactive', '--yes', 'all');
    expect(r3.code, r3.stderr).toBe(0);
    const md = c('audit', 'show', id, '--format', 'md').stdout;
    expect(md).toMatch(/\*\*step 'approval' confirmed by tester \(confirmed by flag --yes\)\*\*/);
    expect(md).toMatch(/## Skipped steps/);
    expect(md).toMatch(/`prod-only` Production only: when: environment is "staging", not "production"/);
    expect(md).toMatch(/\| Outcome \| succeeded \|/);
  });

  it('includes run inline with their own steps; production runs what staging skips', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    const r = c('run', 'gated', '-p', 'environment=production', '--non-interactive', '--yes', 'all', '--json');
    expect(r.code, r.stderr).toBe(0);
    const started = jsonLines(r.stdout)
      .filter((e) => e.type === 'step.started')
      .map((e) => e.stepId);
    expect(started).toEqual(['prepare', 'approval', 'prod-only', 'inner/one', 'done']);
  });

  it('an operator skip from the command line needs a reason and is recorded', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    c('run', 'gated', '--non-interactive');
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    expect(c('resume', id, '--non-interactive', '--skip', 'approval').code).toBe(2);
    const r = c(
      'resume',
      id,
      '--non-interactive',
      '--skip',
      'approval',
      '--reason',
      'approved in the change ticket CHG-42',
      '--yes',
      'done',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(c('audit', 'show', id).stdout).toMatch(/step 'approval' skipped by the operator: approved in the change ticket CHG-42/);
  });

  it('without a terminal and without --non-interactive it says how to run, exit 2', () => {
    repo.write('checklists/inner.yaml', INNER);
    const r = c('run', 'inner');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no terminal here .* --non-interactive/s);
  });

  it('--dry-run shows what would run and records nothing', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    const r = c('run', 'gated', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/• prepare: Prepare — run: echo prepared >> ran.log/);
    expect(r.stdout).toMatch(/↷ prod-only: Production only — skipped \(when: environment is "staging", not "production"\)/);
    expect(existsSync(path.join(repo.dir, 'ran.log'))).toBe(false);
    expect(existsSync(path.join(repo.dir, '.cockpit', 'audit.db'))).toBe(false);
  });

  it('secrets from the config and from secret parameters never reach the log; control sequences are neutralised', () => {
    repo.write('cockpit.config.yaml', 'secrets:\n  env: [DEPLOY_TOKEN]\n');
    repo.write(
      'checklists/leaky.yaml',
      `id: leaky
title: Leaky
params:
  api_key: {type: string, secret: true}
steps:
  - id: leak
    title: Leaks
    kind: run
    run: |
      echo "token is $DEPLOY_TOKEN"
      echo "key is $COCKPIT_PARAM_API_KEY"
      echo "db postgres://app:pa55word@db:5432/prop"
      printf 'colour \\033[31mred\\033[0m title \\033]0;pwned\\007 done\\n'
      printf 'c1 csi \\302\\23331m here\\n'
`,
    );
    const r = cockpit(['--repo', repo.dir, 'run', 'leaky', '-p', 'api_key=k3y-value-123', '--non-interactive', '--json'], {
      cwd: repo.dir,
      env: { DEPLOY_TOKEN: 'tok-abcdef-999' },
    });
    expect(r.code, r.stderr).toBe(0);
    for (const secret of ['tok-abcdef-999', 'k3y-value-123', 'pa55word']) expect(r.stdout).not.toContain(secret);
    expect(r.stdout).not.toContain('\u001b');
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    const shown = c('audit', 'show', id, '--format', 'json').stdout;
    for (const secret of ['tok-abcdef-999', 'k3y-value-123', 'pa55word']) expect(shown).not.toContain(secret);
    // No C1 control (U+009B is a CSI for some terminals) reaches the terminal raw: the output is neutralised when
    // recorded, and the JSON report escapes any C1 left in what it copies from the log.
    expect(shown).not.toMatch(/[\u0080-\u009f]/);
    expect(shown).toContain('c1 csi ');
    const text = jsonLines(r.stdout)
      .filter((e) => e.type === 'step.output')
      .map((e) => e.data.text)
      .join('');
    expect(text).toContain('token is [REDACTED]');
    expect(text).toContain('postgres://app:[REDACTED]@db:5432/prop');
    expect(text).toContain('colour red title ␛]0;pwned␇ done');
    expect(JSON.parse(c('audit', 'list', '--json').stdout)[0].params).toBe('api_key=[REDACTED]');
  });
});

describe('note and abort on a stopped session', () => {
  it('a note is recorded with who and on which step; abort closes the session with its reason and stops resumes', () => {
    repo.write('checklists/gated.yaml', GATED);
    repo.write('checklists/inner.yaml', INNER);
    expect(c('run', 'gated', '--non-interactive').code).toBe(1);
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    const n = c('note', id, 'approver is on leave, escalated to Sam', '--step', 'approval');
    expect(n.code, n.stderr).toBe(0);
    expect(c('note', id, 'x', '--step', 'nope').code).toBe(2);
    expect(c('abort', id).code).toBe(2); // --reason is required
    const a = c('abort', id, '--reason', 'release moved to Thursday');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('closed as aborted: release moved to Thursday');
    const list = JSON.parse(c('audit', 'list', '--json').stdout);
    expect(list[0].status).toBe('aborted');
    const md = c('audit', 'show', id, '--format', 'md').stdout;
    expect(md).toMatch(/\*\*tester\*\* on `approval`: approver is on leave, escalated to Sam/);
    expect(md).toMatch(/session finished: aborted — release moved to Thursday/);
    const r = c('resume', id, '--non-interactive');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already finished \(aborted\)/);
    expect(c('audit', 'verify').code).toBe(0);
  });
});

describe('secret parameters', () => {
  const SECRET = `id: secretive
title: Secretive
params:
  api_key: {type: string, secret: true}
  version: {type: semver, required: true}
steps:
  - id: use-key
    title: Uses the key
    kind: run
    run: test "$COCKPIT_PARAM_API_KEY" = "k3y-value-123" && echo "key ok for $COCKPIT_PARAM_VERSION"
  - id: gate
    title: Gate
    kind: confirm
  - id: use-again
    title: Uses it again after a resume
    kind: run
    run: ["sh", "-c", 'test "$1" = k3y-value-123 && echo again ok', "sh", "\${api_key}"]
`;

  it('reach commands with their real value, are never stored, and must be given again to a resume', () => {
    repo.write('checklists/secretive.yaml', SECRET);
    const r = c('run', 'secretive', '-p', 'api_key=k3y-value-123', '-p', 'version=1.2.3', '--non-interactive');
    expect(r.code, r.stderr).toBe(1); // waits at the gate
    expect(r.stdout).toContain('key ok for 1.2.3');
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    expect(c('audit', 'show', id, '--format', 'json').stdout).not.toContain('k3y-value-123');

    const without = c('resume', id, '--non-interactive', '--yes', 'gate');
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/uses secret parameters that are never stored; give them again: -p api_key=…/);
    const notSecret = c('resume', id, '--non-interactive', '--yes', 'gate', '-p', 'version=9.9.9', '-p', 'api_key=k3y-value-123');
    expect(notSecret.code).toBe(2);
    expect(notSecret.stderr).toMatch(/-p version: only secret parameters/);

    const ok = c('resume', id, '--non-interactive', '--yes', 'gate', '-p', 'api_key=k3y-value-123');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('again ok');
    expect(c('audit', 'show', id, '--format', 'json').stdout).not.toContain('k3y-value-123');
    expect(c('audit', 'verify').code).toBe(0);
  });
});

describe('what the checklist says is shown safely', () => {
  it('a prompt with a control sequence and a token is neutralised and redacted wherever it is shown', () => {
    repo.write(
      'checklists/crafted.yaml',
      'id: crafted\ntitle: "Crafted \\e]0;pwned\\a"\nsteps:\n  - id: ask\n    title: Ask\n    kind: confirm\n    prompt: "Paste ghp_abcdefghijklmnopqrstuvwxyz0123456789 here? \\e[2J"\n',
    );
    const r = c('run', 'crafted', '--non-interactive');
    expect(r.code).toBe(1);
    for (const stream of [r.stdout, r.stderr, c('checklist', 'show', 'crafted').stdout, c('checklist', 'list').stdout]) {
      expect(stream).not.toContain('\u001b');
      expect(stream).not.toContain('\u0007');
    }
    expect(r.stderr).toContain('needs confirmation: Paste [REDACTED] here? ␛[2J');
    expect(r.stdout).toContain('Crafted ␛]0;pwned␇');
  });
});

describe('demo', () => {
  // The demo's deploy step starts real processes (the app and HAProxy): stopped by the sandbox's own script.
  afterEach(() => {
    const dir = `${repo.dir}/sandbox`;
    if (existsSync(path.join(dir, 'scripts', 'deploy.sh')))
      spawnSync(path.join(dir, 'scripts', 'deploy.sh'), ['stop', '--env', 'staging'], { cwd: dir });
  });

  it('makes its sandbox, runs the demo checklist to the end, reuses the sandbox, and --reset makes it anew', () => {
    const dir = `${repo.dir}/sandbox`;
    const first = cockpit(['demo', '--dir', dir, '--no-services']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Made the demo sandbox in ${dir}`);
    expect(first.stdout).toMatch(/● done: Demo release of the Property app/);
    // What it leaves running is said, with how to stop it.
    expect(first.stdout).toContain(
      `The demo's Property app keeps serving staging: see it with ./scripts/deploy.sh status --env staging, stop it with ./scripts/deploy.sh stop --env staging (in ${dir})`,
    );
    // The deploy step deployed for real: the sandbox's script says staging serves the version, and so does its URL.
    const st = JSON.parse(
      spawnSync(path.join(dir, 'scripts', 'deploy.sh'), ['status', '--env', 'staging', '--json'], { cwd: dir, encoding: 'utf8' }).stdout,
    );
    expect(st).toMatchObject({ live: 'blue', colours: { blue: { version: '1.4.0', healthy: true } } });
    const served = spawnSync(
      process.execPath,
      ['-e', `fetch(${JSON.stringify(st.url + '/version')}).then((r) => console.log(r.headers.get('x-app-version')))`],
      { encoding: 'utf8' },
    );
    expect(served.stdout.trim()).toBe('1.4.0');
    const second = cockpit(['demo', '--dir', dir, '--no-services']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Using the demo sandbox');
    const list = JSON.parse(cockpit(['--repo', dir, 'audit', 'list', '--json']).stdout);
    expect(list.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);
    // The commands it prints name the session it ran and the sandbox it reuses (no <session> to fill in).
    expect(second.stdout).toContain(`npx cockpit --repo ${dir} audit show ${list[0].id} --format md`);
    expect(second.stdout).toContain(`(npx cockpit demo --reset --dir ${dir} makes it anew)`);
    expect(cockpit(['--repo', dir, 'audit', 'verify']).code).toBe(0);
    const reset = cockpit(['demo', '--dir', dir, '--reset', '--no-services']);
    expect(reset.stdout).toContain('Made the demo sandbox');
    expect(JSON.parse(cockpit(['--repo', dir, 'audit', 'list', '--json']).stdout)).toHaveLength(1);
  });

  it('its sandbox is a small Property app with a release history: versions, branches, a past tag, an origin, a clean tree', () => {
    const dir = `${repo.dir}/sandbox`;
    const run = cockpit(['demo', '--dir', dir, '--no-services']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/● done: Demo release of the Property app/);
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
      expect(r.status, `git ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    expect(JSON.parse(readFileSync(path.join(dir, 'frontend', 'package.json'), 'utf8'))).toMatchObject({
      name: 'property-frontend',
      version: '1.3.0',
    });
    const setupPy = readFileSync(path.join(dir, 'backend', 'setup.py'), 'utf8');
    expect(setupPy).toContain('name="property-backend"');
    expect(setupPy).toContain('version="1.3.0"');
    expect(git('branch', '--list', '--format=%(refname:short)').split('\n')).toEqual(expect.arrayContaining(['main', 'develop']));
    expect(git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    expect(git('tag', '--list').split('\n')).toContain('v1.3.0');
    expect(Number(git('rev-list', '--count', 'v1.3.0..main'))).toBeGreaterThanOrEqual(5);
    expect(Number(git('rev-list', '--count', 'main..develop'))).toBeGreaterThanOrEqual(1);
    const conventional = /^(feat|fix|chore|docs|refactor|perf|test|build|ci|style|revert)(\([\w-]+\))?!?: \S/;
    expect(
      git('log', '--format=%s')
        .split('\n')
        .filter((s) => conventional.test(s)).length,
    ).toBeGreaterThanOrEqual(24);
    const origin = git('remote', 'get-url', 'origin').trim();
    expect(existsSync(origin)).toBe(true);
    expect(spawnSync('git', ['-C', origin, 'rev-parse', '--is-bare-repository'], { encoding: 'utf8' }).stdout.trim()).toBe('true');
    const remote = git('ls-remote', 'origin');
    for (const ref of ['refs/heads/main', 'refs/heads/develop', 'refs/tags/v1.3.0']) expect(remote).toContain(ref);
    expect(git('status', '--porcelain')).toBe('');
  });
});

describe('usage', () => {
  it('--help tells the truth and unknown commands are exit 2', () => {
    const h = c('--help');
    expect(h.code).toBe(0);
    for (const cmd of ['run', 'resume', 'note', 'abort', 'checklist', 'audit', 'replay', 'demo'])
      expect(h.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    const bad = c('frobnicate');
    expect(bad.code).toBe(2);
    expect(c('audit', 'show').code).toBe(2);
  });

  it('output into a pipe whose reader is gone (cockpit --help | head) ends quietly, not with a stack trace', async () => {
    for (const args of [['--help'], ['checklist', 'show', 'release']]) {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: repo.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader goes away before the cockpit has written anything: every write it makes meets a closed pipe.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(stderr, args.join(' ')).not.toMatch(/EPIPE|Error/);
      expect(code, args.join(' ')).toBe(0);
    }
  });
});
