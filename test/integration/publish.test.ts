import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';
import { slackReceiver, SLACK_TOKEN, type Answer, type Receiver } from '../helpers/notify-receivers.js';

/**
 * Publishing the release notes (the `publish` step and the `release-notes` message of the communication checklist)
 * and a rollback whose notice cannot be delivered (rollback-code's notify step, `onFailure: warn`): the real bin on a
 * real git repository, a real Slack-format receiver on loopback, a forge command that is a real program (it records
 * its argv and the notes file it was given, and prints the release's URL as `gh release create` does), and the test
 * deploy target (a real deploy script and HTTP servers) for the rollback.
 */

let repo: ReturnType<typeof tempRepo>;
const closers: Array<() => Promise<void>> = [];
beforeEach(() => {
  repo = tempRepo();
});
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  repo.cleanup();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bin as an async child: the receivers answer from this process. */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = cockpitAsync(['--repo', repo.dir, ...args], { cwd: repo.dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A Slack webhook on loopback (test/helpers/notify-receivers.ts), with its URL and token as the config names them. */
async function receiver(answer?: Answer): Promise<Receiver & { webhook: string; token: string }> {
  const r = await slackReceiver(answer);
  closers.push(() => r.close());
  return Object.assign(r, { webhook: `${r.url}/services/T0001/B0001/${SLACK_TOKEN}`, token: SLACK_TOKEN });
}

const events = async (stdout: string) => {
  const id = jsonLines(stdout).find((e) => e.type === 'session.started')!.sessionId as string;
  const json = await run(['audit', 'show', id, '--format', 'json']);
  const text = await run(['audit', 'show', id]);
  return { id, events: JSON.parse(json.stdout).events as Array<Record<string, any>>, shown: text.stdout };
};
const of = (evs: Array<Record<string, any>>, type: string) => evs.filter((e) => e.type === type);

/** A forge CLI: records its argv and the notes file's text in .forge/calls.json, prints the release URL (or fails with FORGE_FAIL). */
const FORGE = `import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
const argv = process.argv.slice(2);
if (process.env.FORGE_SLOW) { mkdirSync('.forge', { recursive: true }); appendFileSync('.forge/started', process.pid + '\\n'); await new Promise((r) => setTimeout(r, 60000)); }
if (process.env.FORGE_FAIL) { console.error('HTTP 422: Validation Failed (tag_name already exists)'); process.exit(3); }
const notes = argv[argv.indexOf('--notes-file') + 1];
mkdirSync('.forge', { recursive: true });
appendFileSync('.forge/calls.json', JSON.stringify({ argv, notes: readFileSync(notes, 'utf8') }) + '\\n');
console.log('Creating release ' + argv[2] + ' in acme/app');
console.log('https://forge.example.test/acme/app/releases/tag/' + argv[2]);
`;

const ENTRIES = Array.from(
  { length: 90 },
  (_, i) => `- **search:** ranking improvement number ${i + 1} (abc${String(i).padStart(4, '0')})`,
);
const SECTION = `## 1.4.0 (2026-12-08)\n\n### Features\n\n- **search:** search listings (a1b2c3d) — Ana Souza\n${ENTRIES.join('\n')}\n\nContributors: Ana Souza\n`;
const CHANGELOG = `# Changelog\n\n${SECTION}\n## 1.3.0 (2026-11-24)\n\n### Bug Fixes\n\n- an older fix that is not news (0000001)\n`;

function release(publish: string): void {
  repo.write('scripts/forge.mjs', FORGE);
  repo.write('CHANGELOG.md', CHANGELOG);
  repo.write('cockpit.config.yaml', `release:\n  publish: ${publish}\nnotify:\n  chat:\n    type: slack\n    url: {env: TEST_SLACK_URL}\n`);
  spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'docs(changelog): 1.4.0', '--allow-empty'], {
    cwd: repo.dir,
  });
}

const FORGE_ARGV = `[${JSON.stringify(process.execPath)}, scripts/forge.mjs, release, create, "v\${version}", --title, "v\${version}", --notes-file, "\${notesFile}"]`;
const POST_DEPLOY = ['run', 'communication', '-p', 'phase=post-deploy', '-p', 'version=1.4.0', '-p', 'target=production'];

describe('publishing the release notes', () => {
  it('runs the configured forge command with the approved section, records the URL it printed, and posts the notes to the chat', async () => {
    const chat = await receiver();
    release(FORGE_ARGV);
    const r = await run([...POST_DEPLOY, '--non-interactive', '--yes', 'all', '--json'], { TEST_SLACK_URL: chat.webhook });
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(chat.violations).toEqual([]);

    // The forge command got the version and a file holding exactly the version's section (not 1.3.0's), one argument each.
    const calls = readFileSync(path.join(repo.dir, '.forge/calls.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(calls).toHaveLength(1);
    expect(calls[0].argv).toEqual([
      'release',
      'create',
      'v1.4.0',
      '--title',
      'v1.4.0',
      '--notes-file',
      '.cockpit/release-notes/v1.4.0.published.md',
    ]);
    expect(calls[0].notes).toBe(SECTION);

    // The chat got the confirmation, then the notes: the section in the chat's bold, cut under Slack's 3000, saying where the rest is.
    expect(chat.received.map((q) => q.body.blocks[0].text.text)).toEqual([
      'Deployment complete: v1.4.0 to production',
      'Release notes: v1.4.0',
    ]);
    const notes: string = chat.received[1].body.blocks[1].text.text;
    expect(notes.startsWith('*Features*\n\n- *search:* search listings (a1b2c3d) — Ana Souza\n')).toBe(true);
    expect(notes.length).toBeLessThanOrEqual(3000);
    // Then where the publish step published it, as Slack's link.
    expect(notes).toMatch(
      /\n… \d+ more lines in CHANGELOG\.md\n\nPublished: <https:\/\/forge\.example\.test\/acme\/app\/releases\/tag\/v1\.4\.0\|v1\.4\.0 release>$/,
    );
    expect(notes).not.toContain('older fix');
    expect(chat.received[1].body.text).toContain('Release notes: v1.4.0\n*Features*');

    // Recorded where it published, and said by audit show.
    const { events: evs, shown } = await events(r.stdout);
    expect(of(evs, 'release.published').map((e) => [e.stepId, e.data])).toEqual([
      [
        'publish-release-notes',
        {
          version: '1.4.0',
          command: `${process.execPath} scripts/forge.mjs release create v1.4.0 --title v1.4.0 --notes-file .cockpit/release-notes/v1.4.0.published.md`,
          notesFile: '.cockpit/release-notes/v1.4.0.published.md',
          url: 'https://forge.example.test/acme/app/releases/tag/v1.4.0',
        },
      ],
    ]);
    expect(shown).toContain("step 'publish-release-notes': published 1.4.0 at https://forge.example.test/acme/app/releases/tag/v1.4.0");
    expect(shown).toContain("step 'release-notes-chat': delivered to chat: HTTP 200");
    expect(r.stdout).not.toContain(chat.token);
  }, 60_000);

  it('SIGKILL while the forge command runs: the resume does not publish again unasked, and publishes once when told', async () => {
    const chat = await receiver();
    release(FORGE_ARGV);
    const child = cockpitAsync(['--repo', repo.dir, ...POST_DEPLOY, '--non-interactive', '--yes', 'all', '--json'], {
      cwd: repo.dir,
      env: { TEST_SLACK_URL: chat.webhook, FORGE_SLOW: '1' },
    });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const started = path.join(repo.dir, '.forge/started');
    for (const end = Date.now() + 30_000; !existsSync(started);) {
      if (Date.now() > end) throw new Error('the forge command never started');
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    await closed;
    // The forge command dies too (it runs in its own process group): as after a machine's crash.
    try {
      process.kill(Number(readFileSync(started, 'utf8').trim()), 'SIGKILL');
    } catch {
      // Already gone.
    }
    const id = jsonLines(stdout).find((e) => e.type === 'session.started')!.sessionId as string;

    const waiting = await run(['resume', id, '--non-interactive'], { TEST_SLACK_URL: chat.webhook });
    expect(waiting.code).not.toBe(0);
    // The probe saw the command started and nothing recorded: it cannot tell, so the step is not run again unasked.
    expect(waiting.stdout).toMatch(
      /probe: .*forge\.mjs release create v1\.4\.0 .*no publication was recorded: the forge may have the release already/,
    );
    expect(waiting.stdout + waiting.stderr).toMatch(/was interrupted and may have run: check its effect/);
    expect(waiting.stdout + waiting.stderr).toContain('--yes publish-release-notes');
    expect(existsSync(path.join(repo.dir, '.forge/calls.json'))).toBe(false);

    const yes = await run(['resume', id, '--non-interactive', '--yes', 'publish-release-notes', '--yes', 'all', '--json'], {
      TEST_SLACK_URL: chat.webhook,
    });
    expect(yes.code, yes.stderr + yes.stdout.slice(-2000)).toBe(0);
    expect(readFileSync(path.join(repo.dir, '.forge/calls.json'), 'utf8').trim().split('\n')).toHaveLength(1);
    const { events: evs } = await events(stdout);
    expect(of(evs, 'step.probed').map((e) => e.data.result)).toEqual(expect.arrayContaining(['unknown']));
    expect(of(evs, 'release.published')).toHaveLength(1);
  }, 90_000);

  it('a forge command that fails fails the step with its exit code, its output shown, and nothing recorded as published', async () => {
    const chat = await receiver();
    release(FORGE_ARGV);
    const r = await run([...POST_DEPLOY, '--non-interactive', '--yes', 'all', '--json'], { TEST_SLACK_URL: chat.webhook, FORGE_FAIL: '1' });
    expect(r.code).not.toBe(0);
    const { events: evs, shown } = await events(r.stdout);
    const failed = of(evs, 'step.failed').find((e) => e.stepId === 'publish-release-notes')!;
    expect(failed.data.exitCode).toBe(3);
    expect(failed.data.reason).toMatch(/exited with code 3 \(its output is above\); nothing is recorded as published/);
    expect(shown).toContain('HTTP 422: Validation Failed (tag_name already exists)');
    expect(of(evs, 'release.published')).toEqual([]);
    // The notes were not posted either: the session stopped at the failed publish.
    expect(chat.received.map((q) => q.body.blocks[0].text.text)).toEqual(['Deployment complete: v1.4.0 to production']);
  }, 60_000);

  it('the dry run prints the filled command; an unknown ${field} in release.publish is refused at its line and column', async () => {
    release(FORGE_ARGV);
    const dry = await run([...POST_DEPLOY, '--dry-run'], { TEST_SLACK_URL: 'https://hooks.example.test/services/T/B/x' });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      'the section for 1.4.0 of CHANGELOG.md into .cockpit/release-notes/v1.4.0.published.md, then: ' +
        `${process.execPath} scripts/forge.mjs release create v1.4.0 --title v1.4.0 --notes-file .cockpit/release-notes/v1.4.0.published.md`,
    );
    expect(dry.stdout).toContain('the text is the section for 1.4.0 of CHANGELOG.md when it runs');

    release('[gh, release, create, "v${version}", --notes-file, "${notes}"]');
    const bad = await run([...POST_DEPLOY, '--dry-run']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(
      /cockpit\.config\.yaml:2:\d+: .*'\$\{notes\}' is not a field of release\.publish \(it has \$\{version\}, \$\{tag\}, \$\{notesFile\}\)/,
    );
  }, 60_000);

  it('without release.publish: nothing to do (○), saying what to add', async () => {
    repo.write('CHANGELOG.md', CHANGELOG);
    const r = await run([...POST_DEPLOY, '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const passed = jsonLines(r.stdout).find((e) => e.type === 'step.passed' && e.stepId === 'publish-release-notes')!;
    expect(passed.data.nothingToCheck).toMatch(
      /no release\.publish command is configured.*add release\.publish: \[gh, release, create, "v\$\{version\}"/,
    );
    expect(existsSync(path.join(repo.dir, '.cockpit/release-notes/v1.4.0.published.md'))).toBe(false);
  }, 60_000);

  it('with a chat channel but no section for the version in CHANGELOG.md, the notes are not posted (○, saying why) and the session goes on', async () => {
    const chat = await receiver();
    repo.write('cockpit.config.yaml', 'notify:\n  chat:\n    type: slack\n    url: {env: TEST_SLACK_URL}\n');
    repo.write('CHANGELOG.md', '# Changelog\n\n## 1.3.0\n\n- older\n');
    const r = await run([...POST_DEPLOY, '--non-interactive', '--yes', 'all', '--json'], { TEST_SLACK_URL: chat.webhook });
    expect(r.code, r.stderr).toBe(0);
    const passed = jsonLines(r.stdout).find((e) => e.type === 'step.passed' && e.stepId === 'release-notes-chat')!;
    expect(passed.data.nothingToCheck).toBe(
      "CHANGELOG.md has no section for 1.4.0, so no release notes were sent (the release's notes step writes it)",
    );
    expect(chat.received.map((q) => q.body.blocks[0].text.text)).toEqual(['Deployment complete: v1.4.0 to production']);
  }, 60_000);
});

describe('a rollback whose notice cannot be delivered', () => {
  let target: DeployTarget;
  beforeEach(async () => {
    target = await startDeployTarget(repo.dir, repo.write);
    closers.push(() => target.close());
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo.dir });
    git('commit', '-q', '--allow-empty', '-m', 'first release');
    git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
  });
  const configure = (channel: string) =>
    repo.write(
      'cockpit.config.yaml',
      `deploy:\n${target.config({ production: 'blue-green' })}\nnotify:\n  chat:\n    type: slack\n    url: {env: TEST_SLACK_URL}\n${channel}`,
    );

  for (const [what, answer, channel, reason] of [
    [
      'a 404',
      (_q: unknown, res: import('node:http').ServerResponse) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service'),
      '',
      /HTTP 404: no_service/,
    ],
    ['no answer (a timeout)', () => {}, '    timeout: 1s\n    attempts: 1\n', /timed out|no answer/],
  ] as const)
    it(`rollback-code finishes and its recovery clock stops when the chat answers ${what}: the failure is recorded and shown with ⚠`, async () => {
      const chat = await receiver(answer);
      configure(channel);
      const r = await run(['run', 'rollback-code', '-p', 'version=1.0.0', '--non-interactive', '--yes', 'all', '--json'], {
        TEST_SLACK_URL: chat.webhook,
      });
      expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
      // It was tried once (a 404 is permanent; the timeout has one attempt), and the rollback itself happened.
      expect(chat.received.map((q) => q.body.blocks[0].text.text)).toEqual(['Rollback: production back on 1.0.0']);
      expect(target.calls()).toContain('rollback 1.0.0 --env production');

      const { events: evs, shown } = await events(r.stdout);
      const failed = of(evs, 'notify.failed').map((e) => e.data);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ channel: 'chat', onFailure: 'warn' });
      expect(failed[0].reason).toMatch(reason);
      const passed = of(evs, 'step.passed').find((e) => e.stepId === 'notify')!;
      expect(passed.data.nothingToCheck).toMatch(/'rollback-notice' was not delivered to chat; onFailure: warn records it/);
      // The session went on to its last step and finished: the recovery clock stopped, within the objective.
      const finished = of(evs, 'session.finished')[0];
      expect(finished.data.recoveredMs).toBeGreaterThan(0);
      expect(shown).toMatch(/⚠ step 'notify': not delivered to chat: .*\(onFailure: warn: recorded, the step went on without it\)/);
      expect(shown).toMatch(/recovered in \d+s \(objective 15m: met\)/);
      expect(r.stdout).toContain('⚠ chat: ');
      expect(r.stdout + shown).not.toContain(chat.token);
    }, 90_000);
});
