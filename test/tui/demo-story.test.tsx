import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { renderToString } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { DEMO_SANDBOX_ENV } from '../../src/demo/mode.js';
import { demoStory, storyStepsText, type StorySession } from '../../src/demo/story.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

/**
 * The demo's story on the home screen, from real audit logs: each stage's sessions are recorded by `cockpit run`
 * (quick stand-ins for the sandbox's checklists, same ids), the home screen is drawn from them. Each line of the story
 * fits 80 columns (the pure tests below).
 */
const quick = (id: string, run = 'echo ok') => `id: ${id}
title: ${id}
params:
  version: {type: semver, default: 1.4.0}
steps:
  - id: work
    title: Work
    kind: run
    run: ${run}
`;

let repo: ReturnType<typeof tempRepo>;

beforeAll(() => {
  repo = tempRepo({
    release: quick('release'),
    'deploy-staging': quick('deploy-staging'),
    'deploy-production': quick('deploy-production', 'test -f ok'),
    'rollback-code': quick('rollback-code'),
  });
  mkdirSync(path.join(repo.dir, '.sandbox', 'origin.git'), { recursive: true });
});

afterAll(async () => {
  delete process.env[DEMO_SANDBOX_ENV];
  await closeStores();
  repo.cleanup();
});

const run = (id: string) => cockpit(['--repo', repo.dir, 'run', id, '--non-interactive'], { cwd: repo.dir });

/** The home screen as the demo shows it (the test terminal's 100x30); its story line and message line. */
async function home(): Promise<{ story: string; next: string; frame: string }> {
  process.env[DEMO_SANDBOX_ENV] = repo.dir;
  const services = workspaceServices(new Workspace({ repo: repo.dir }), () => undefined);
  const data = await services.home();
  const frame = stripVTControlCharacters(
    renderToString(<App services={services} initial={{ name: 'home', data }} theme={noColorTheme} onExit={() => undefined} />, {
      columns: 100,
    }),
  );
  const lines = frame.split('\n');
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(100);
  return { story: lines.find((l) => l.startsWith('Story:')) ?? '', next: lines.at(-2)!.trim(), frame };
}

describe("the demo's story line", () => {
  it('follows the audit log: release → staging → production → done (or: breach → rolled back)', async () => {
    let h = await home();
    expect(h.story).toBe('Story: ▶ release v1.4.0 → staging → production → watch → done');
    expect(h.next).toBe("Next: release v1.4.0: select the checklist 'release' below and press ↵");

    expect(run('release').code).toBe(0);
    h = await home();
    expect(h.story).toBe('Story: ✔ release v1.4.0 → ▶ staging → production → watch → done');
    expect(h.next).toBe("Next: deploy v1.4.0 to staging: select 'deploy-staging' below and press ↵");

    expect(run('deploy-staging').code).toBe(0);
    h = await home();
    expect(h.story).toBe('Story: ✔ release v1.4.0 → ✔ staging → ▶ production → watch → done');
    expect(h.next).toBe("Next: deploy v1.4.0 to production ('deploy-production'): A gives Ben's approval");

    // A production deploy that stopped: resume it.
    expect(run('deploy-production').code).not.toBe(0);
    h = await home();
    expect(h.story).toBe('Story: ✔ release v1.4.0 → ✔ staging → ▶ production → watch → done');
    expect(h.next).toBe('Resume the production deploy (↵ on its session): the watch follows the switch');

    // The watch breached, the code was rolled back: the story is told.
    expect(run('rollback-code').code).toBe(0);
    h = await home();
    expect(h.story).toBe('Story: ✔ release v1.4.0 → ✔ staging → ✔ production → ✔ breach → ✔ rolled back');
    // The command names the sandbox when it is not the default one (the line is cut at the screen's edge).
    expect(h.next).toMatch(/^Done: v1\.4\.0 was rolled back\. Chat and status page: npx cockpit demo --messages --dir \/tmp\//);

    // Production resumed and finished (its watch passed): v1.4.0 is live.
    repo.write('ok', '');
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout) as Array<{
      id: string;
      checklist: string;
    }>;
    const prod = list.find((x) => x.checklist === 'deploy-production')!;
    expect(cockpit(['--repo', repo.dir, 'resume', prod.id, '--non-interactive'], { cwd: repo.dir }).code).toBe(0);
    h = await home();
    expect(h.story).toBe('Story: ✔ release v1.4.0 → ✔ staging → ✔ production → ✔ watch → ✔ done');
    expect(h.next).toMatch(/^Done: v1\.4\.0 is live\. Chat and status page: npx cockpit demo --messages/);
  }, 90_000);

  it('is not on the home screen of any other repository', async () => {
    process.env[DEMO_SANDBOX_ENV] = repo.dir;
    const other = tempRepo({ release: quick('release') });
    try {
      const services = workspaceServices(new Workspace({ repo: other.dir }), () => undefined);
      const data = await services.home();
      const frame = stripVTControlCharacters(
        renderToString(<App services={services} initial={{ name: 'home', data }} theme={noColorTheme} onExit={() => undefined} />, {
          columns: 100,
        }),
      );
      expect(frame).not.toContain('Story');
      expect(frame).not.toContain('Next:');
    } finally {
      other.cleanup();
    }
  });
});

describe('demoStory', () => {
  const s = (checklist: string, status: string, params = 'version=1.4.0'): StorySession => ({
    checklist,
    params,
    status,
    finished: ['succeeded', 'aborted', 'failed'].includes(status),
    running: status.startsWith('waiting for') || status === 'running',
  });
  const CMD = 'npx cockpit demo --messages';

  it('says each next step in one line of 80 columns at most', () => {
    const states: StorySession[][] = [
      [],
      [s('release', 'succeeded')],
      [s('release', 'succeeded'), s('deploy-staging', 'succeeded')],
      [
        s('release', 'succeeded'),
        s('deploy-staging', 'succeeded'),
        s('deploy-production', "waiting for a senior developer's approval (ben)"),
      ],
      [s('release', 'succeeded'), s('deploy-staging', 'succeeded'), s('deploy-production', 'stopped (resumable)')],
      [s('release', 'succeeded'), s('deploy-staging', 'succeeded'), s('deploy-production', 'succeeded')],
      [
        s('release', 'succeeded'),
        s('deploy-staging', 'succeeded'),
        s('deploy-production', 'stopped (resumable)'),
        s('rollback-code', 'succeeded'),
      ],
    ];
    const told = states.map((st) => demoStory(st, 'Ben', CMD));
    for (const t of told) {
      expect(t.next.length, t.next).toBeLessThanOrEqual(80);
      expect(storyStepsText(t).length).toBeLessThanOrEqual(80);
    }
    expect(told[3].next).toBe("Production waits for Ben's approval: ↵ on its session, then A approves as Ben");
    expect(told[5]).toMatchObject({ finished: true, next: `Done: v1.4.0 is live. Chat and status page: ${CMD}` });
    expect(told.map((t) => t.finished)).toEqual([false, false, false, false, false, true, true]);
  });

  it('takes the version from the release session, and counts only finished, succeeded sessions', () => {
    expect(storyStepsText(demoStory([s('release', 'succeeded', 'version=1.5.0')], 'Ben', CMD))).toBe(
      'Story: ✔ release v1.5.0 → ▶ staging → production → watch → done',
    );
    expect(storyStepsText(demoStory([s('release', 'failed (resumable)'), s('deploy-staging', 'aborted')], 'Ben', CMD))).toBe(
      'Story: ▶ release v1.4.0 → staging → production → watch → done',
    );
  });
});
