import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import type { AuditEvent } from '../../src/core/events.js';
import type { LiveSession } from '../../src/engine/live.js';
import { anchorsWritten } from '../../src/engine/pending-anchors.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { tempRepo } from '../helpers/cli.js';
import { frame, frameProblem, KEY, press, type, until, waitFor, type Rendered } from '../helpers/ink.js';
import { listen, SLACK_TOKEN, slackReceiver, type Receiver } from '../helpers/notify-receivers.js';

// The `u` key of a session screen after a failed step: the rendered 'issue or delay' update and its channels are
// shown, the operator edits the text in place and sends it (a real loopback Slack receiver gets it; the session
// records it, the operator as actor), or cancels (nothing sent). Without `notify:` the key is not offered.

const FAILS = `id: fails
title: Deploy that fails
params:
  version: {type: string, default: 1.4.0}
  environment: {type: string, default: production}
steps:
  - id: deploy
    title: Deploy the release
    kind: run
    run: echo "health check failed"; exit 3
`;

let repo: ReturnType<typeof tempRepo>;
let slack: Receiver;
let apps: Rendered[] = [];
let sessions: LiveSession[] = [];

beforeEach(async () => {
  process.env.COCKPIT_OPERATOR = 'alice';
  slack = await slackReceiver();
  process.env.TEST_UPDATE_SLACK_URL = `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}`;
  repo = tempRepo({ fails: FAILS });
  apps = [];
  sessions = [];
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  for (const a of apps) a.unmount();
  await anchorsWritten();
  await closeStores();
  await slack.close();
  delete process.env.TEST_UPDATE_SLACK_URL;
  repo.cleanup();
});

async function failedSession(): Promise<{ app: Rendered; id: string }> {
  const services = workspaceServices(new Workspace({ repo: repo.dir }), (s) => sessions.push(s));
  const controls = await services.start('fails', {});
  const app = render(<App services={services} initial={{ name: 'session', controls }} theme={noColorTheme} onExit={() => {}} />);
  apps.push(app);
  await waitFor(app, /FAILED\s+s skip/);
  return { app, id: controls.view().state.id };
}

async function events(id: string): Promise<AuditEvent[]> {
  return (await new Workspace({ repo: repo.dir }).openStore()).readEvents(id);
}

const bar = (f: string) => f.split('\n').at(-1)!.trim();

describe("the 'issue or delay' update key", () => {
  it('shows the rendered message and its channel, sends the edited text, records it with the operator and the edit', async () => {
    repo.write('cockpit.config.yaml', 'notify:\n  chat:\n    type: slack\n    url: {env: TEST_UPDATE_SLACK_URL}\n');
    const { app, id } = await failedSession();
    expect(bar(frame(app))).toMatch(/^FAILED\s+s skip\s+r retry\s+n note\s+u update channels\s+a abort/);
    await press(app, 'u');
    let f = await waitFor(app, "'issue or delay' update: step 'deploy' failed");
    expect(f).toContain('to chat (slack)');
    expect(f).toContain('Issue or delay: v1.4.0 to production');
    expect(f).toMatch(/Deployment of release v1\.4\.0 to production is delayed: step 'Deploy the release'\s+failed/);
    expect(f).toContain('Operator: alice.');
    expect(bar(f)).toMatch(/^TYPE\s/);
    // The panel takes its rows from the checklist: the frame still fits the terminal.
    expect(frameProblem(f)).toBeNull();
    // Cancel first: nothing is sent.
    await press(app, KEY.esc);
    await waitFor(app, (x) => !x.includes("'issue or delay' update") && /^FAILED/.test(bar(x)));
    expect(slack.received).toHaveLength(0);

    await press(app, 'u');
    await waitFor(app, "'issue or delay' update");
    await type(app, ' ETA 20 min.');
    f = await waitFor(app, '· edited');
    expect(f).toContain('ETA 20 min.');
    await press(app, KEY.enter);
    f = await waitFor(app, 'update (edited) delivered to chat');
    expect(f).not.toContain("'issue or delay' update:");
    await until(() => slack.received.length === 1, 'the receiver to get the update');
    expect(slack.violations).toEqual([]);
    const body = slack.received[0].body;
    expect(body.blocks[0].text.text).toBe('Issue or delay: v1.4.0 to production');
    expect(body.blocks[1].text.text).toMatch(/is delayed: step 'Deploy the release' failed.*Operator: alice\. ETA 20 min\.$/);

    const ev = await events(id);
    const sending = ev.find((e) => e.type === 'notify.sending')!;
    expect(sending).toMatchObject({
      actor: 'alice',
      stepId: null,
      data: { channel: 'chat', provider: 'slack', message: 'issue-or-delay', edited: true, about: 'deploy' },
    });
    expect((sending.data as { text: string }).text).toMatch(/ETA 20 min\.$/);
    expect(ev.find((e) => e.type === 'notify.delivered')).toMatchObject({ actor: 'alice', data: { channel: 'chat', status: 200 } });
    // The webhook's token is neither recorded nor shown.
    expect(JSON.stringify(ev)).not.toContain(SLACK_TOKEN);
    expect(frame(app)).not.toContain(SLACK_TOKEN);
  }, 60_000);

  it('a quit while the update waits for its answer stops it and records it as perhaps delivered', async () => {
    const silent = await listen((_q, res) => silent.held.push(res));
    try {
      process.env.TEST_UPDATE_SLACK_URL = `${silent.url}/services/T0001/B0001/${SLACK_TOKEN}`;
      repo.write('cockpit.config.yaml', 'notify:\n  chat:\n    type: slack\n    url: {env: TEST_UPDATE_SLACK_URL}\n    timeout: 30s\n');
      const { app, id } = await failedSession();
      await press(app, 'u');
      await waitFor(app, "'issue or delay' update");
      await press(app, KEY.enter);
      await until(() => silent.received.length === 1, 'the request to arrive');
      const t0 = Date.now();
      await sessions.at(-1)!.stop();
      // Not the 30 s timeout: the quit ends the wait.
      expect(Date.now() - t0).toBeLessThan(5000);
      const ev = await events(id);
      expect(ev.filter((e) => e.type.startsWith('notify.')).map((e) => e.type)).toEqual(['notify.sending', 'notify.failed']);
      expect(ev.find((e) => e.type === 'notify.failed')!.data).toMatchObject({
        uncertain: true,
        reason: 'stopped while sending (the cockpit quit)',
      });
    } finally {
      for (const res of silent.held) res.destroy();
      await silent.close();
    }
  }, 30_000);

  it('is not offered without notify: channels (u does nothing, no hint says it)', async () => {
    const { app } = await failedSession();
    expect(bar(frame(app))).toMatch(/^FAILED\s+s skip\s+r retry\s+n note\s+a abort\s+\? help\s+q quit$/);
    await press(app, 'u');
    await new Promise((r) => setTimeout(r, 300));
    expect(frame(app)).not.toContain("'issue or delay' update");
  }, 30_000);
});
