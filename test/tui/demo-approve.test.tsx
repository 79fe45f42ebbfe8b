import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { DEMO_SANDBOX_ENV, DEMO_SENIOR } from '../../src/demo/mode.js';
import type { LiveSession } from '../../src/engine/live.js';
import { anchorsWritten } from '../../src/engine/pending-anchors.js';
import { App } from '../../src/tui/App.js';
import { keyConflicts, resolveKey } from '../../src/tui/keymap.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { tempRepo } from '../helpers/cli.js';
import { frame, press, waitFor, type Rendered } from '../helpers/ink.js';

/**
 * The demo's approval with one key: a real run waits in its approve step on the session screen (the engine in this
 * process); on the demo's sandbox A runs `cockpit approve` as a process of its own as the demo's senior developer
 * (git's user.email his for that process only), and the audit log records him as the approver. Elsewhere A does
 * nothing and the screen says nothing of a demo.
 */
const SHIP = `id: ship
title: Ship
params:
  version: {type: semver, default: 1.4.0}
steps:
  - id: approval
    title: Get approval from a senior developer
    kind: approve
    role: senior
    timeout: 10m
  - id: deploy
    title: Deploy
    kind: run
    run: echo deployed
`;

let repo: ReturnType<typeof tempRepo>;
let apps: Rendered[] = [];
let sessions: LiveSession[] = [];

beforeEach(() => {
  process.env.COCKPIT_OPERATOR = 'alice';
  repo = tempRepo({ ship: SHIP });
  repo.write('cockpit.config.yaml', `approvers:\n  senior: [${DEMO_SENIOR.email}]\n`);
  // The sandbox's own folder, which a demo sandbox has.
  mkdirSync(path.join(repo.dir, '.sandbox', 'origin.git'), { recursive: true });
  apps = [];
  sessions = [];
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  for (const a of apps) a.unmount();
  await anchorsWritten();
  await closeStores();
  delete process.env[DEMO_SANDBOX_ENV];
  repo.cleanup();
});

async function waiting(): Promise<{ app: Rendered; id: string; services: ReturnType<typeof workspaceServices> }> {
  const services = workspaceServices(new Workspace({ repo: repo.dir }), (s) => sessions.push(s));
  const controls = await services.start('ship', {});
  const app = render(<App services={services} initial={{ name: 'session', controls }} theme={noColorTheme} onExit={() => {}} />);
  apps.push(app);
  await waitFor(app, /waiting for a senior developer's approval \(ben\)/);
  return { app, id: controls.view().state.id, services };
}

const bar = (f: string) => f.split('\n').at(-1)!.trim();

describe('the demo approval key', () => {
  it('is A in the session layer, bound to nothing else', () => {
    expect(keyConflicts()).toEqual([]);
    expect(resolveKey(['session'], { input: 'A', shift: true })).toBe('session.demo-approve');
    expect(resolveKey(['session'], { input: 'a' })).toBe('session.abort');
    expect(resolveKey(['session'], { input: 'A', shift: true }, (c) => c !== 'session.demo-approve')).toBeNull();
  });

  it('on the demo sandbox: says who gives it in real life and how, then A records it as the demo senior', async () => {
    process.env[DEMO_SANDBOX_ENV] = repo.dir;
    const { app, id, services } = await waiting();
    expect(services.demo?.senior).toEqual(DEMO_SENIOR);
    let f = await waitFor(app, 'demo: the approval');
    expect(f).toContain('In real life Ben Okafor (ben@property.example) approves from their own shell:');
    expect(f).toMatch(new RegExp(`^ {2}cockpit --repo ${repo.dir} approve ${id}$`, 'm'));
    expect(f).toContain("Here, A approves as Ben (that same command, recorded as Ben's).");
    expect(bar(f)).toContain('A approve (demo)');
    await press(app, 'A');
    f = await waitFor(app, /DONE/, 30_000);
    // The approval step, selected, says who gave it.
    await press(app, 'k');
    f = await waitFor(app, /passed · approved by ben@property\.example/);
    const events = await (await new Workspace({ repo: repo.dir }).openStore()).readEvents(id);
    const granted = events.find((e) => e.type === 'approval.granted');
    expect(granted).toMatchObject({ actor: DEMO_SENIOR.email, data: { approver: DEMO_SENIOR.email, role: 'senior' } });
    expect(events.find((e) => e.type === 'approval.resolved')).toMatchObject({ data: { outcome: 'approved', by: DEMO_SENIOR.email } });
    expect(events.at(-1)).toMatchObject({ type: 'session.finished' });
  }, 60_000);

  it('elsewhere (no demo marker, or another repository): no demo words, and A does nothing', async () => {
    process.env[DEMO_SANDBOX_ENV] = path.join(repo.dir, 'elsewhere');
    const { app, id, services } = await waiting();
    expect(services.demo).toBeUndefined();
    const f = frame(app);
    expect(f).not.toContain('demo');
    expect(bar(f)).not.toContain('approve (demo)');
    await press(app, 'A');
    await new Promise((r) => setTimeout(r, 1500));
    const events = await (await new Workspace({ repo: repo.dir }).openStore()).readEvents(id);
    expect(events.some((e) => e.type === 'approval.granted')).toBe(false);
    expect(frame(app)).toMatch(/waiting for a senior developer's approval \(ben\)/);
  }, 60_000);
});
