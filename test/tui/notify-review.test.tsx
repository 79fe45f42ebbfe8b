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
import { frameProblem, KEY, press, type, until, waitFor, type Rendered } from '../helpers/ink.js';
import {
  API_KEY,
  PAGE,
  SLACK_TOKEN,
  slackReceiver,
  statuspageReceiver,
  type Receiver,
  type StatusPage,
} from '../helpers/notify-receivers.js';

// A `notify` step reached in the full-screen cockpit shows its message before sending it: what each channel shows
// (the chat's title, the status page's incident and status) and the text. ↵ sends it, e edits it in the prompt the
// 'issue or delay' update uses, s skips with a reason. The edit is what real loopback receivers get and what the
// audit log records (edited, by the operator); a retried step sends the edit again, never the template.

const TELL = `id: tell
title: Tell the deployment
params:
  version: {type: string, default: 1.4.0}
  environment: {type: string, default: production}
steps:
  - id: started
    title: Tell the deployment started
    kind: notify
    message: deployment-started
    channels: [chat, statuspage]
    status: under_maintenance
`;

let repo: ReturnType<typeof tempRepo>;
let receivers: Receiver[] = [];
let apps: Rendered[] = [];
let sessions: LiveSession[] = [];

beforeEach(() => {
  process.env.COCKPIT_OPERATOR = 'alice';
  repo = tempRepo({ tell: TELL });
  apps = [];
  sessions = [];
  receivers = [];
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  for (const a of apps) a.unmount();
  await anchorsWritten();
  await closeStores();
  await Promise.all(receivers.map((r) => r.close()));
  delete process.env.TEST_REVIEW_SLACK_URL;
  repo.cleanup();
});

async function open(): Promise<{ app: Rendered; id: string }> {
  const services = workspaceServices(new Workspace({ repo: repo.dir }), (s) => sessions.push(s));
  const controls = await services.start('tell', {});
  const app = render(<App services={services} initial={{ name: 'session', controls }} theme={noColorTheme} onExit={() => {}} />);
  apps.push(app);
  return { app, id: controls.view().state.id };
}

async function events(id: string): Promise<AuditEvent[]> {
  return (await new Workspace({ repo: repo.dir }).openStore()).readEvents(id);
}

const bar = (f: string) => f.split('\n').at(-1)!.trim();

describe("a notify step's message, shown before it is sent", () => {
  it('shows what each channel gets, sends the edited text to both receivers, records it as edited by the operator', async () => {
    const slack = await slackReceiver();
    const sp: StatusPage = await statuspageReceiver();
    receivers.push(slack, sp);
    process.env.TEST_REVIEW_SLACK_URL = `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    repo.write(
      'cockpit.config.yaml',
      `notify:\n  chat:\n    type: slack\n    url: {env: TEST_REVIEW_SLACK_URL}\n  statuspage:\n    type: statuspage\n    url: ${sp.url}/v1\n    page: ${PAGE}\n    apiKey: ${API_KEY}\n    components: [cmpA]\n`,
    );
    const { app, id } = await open();
    let f = await waitFor(app, "step 'started' sends 'deployment-started'");
    expect(f).toContain("→ chat (slack): chat message 'Deployment started: v1.4.0 to production' with the text below");
    expect(f).toContain("→ statuspage (statuspage): incident 'Deployment of v1.4.0 to production' → under_maintenance");
    expect(f).toContain('Deployment of release v1.4.0 to production has started. Operator: alice.');
    expect(bar(f)).toMatch(/^CONFIRM\s+↵ confirm\s+s skip\s+n note\s+e edit message/);
    expect(frameProblem(f)).toBeNull();
    // Nothing goes out while it is shown.
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.received).toHaveLength(0);
    expect(sp.received).toHaveLength(0);

    // e: the text in the prompt, the panel follows the edit as it is typed.
    await press(app, 'e');
    f = await waitFor(app, (x) => /^TYPE\s/.test(bar(x)));
    await type(app, ' ETA 20 min.');
    f = await waitFor(app, '· edited');
    expect(f).toContain('Operator: alice. ETA 20 min.');
    await press(app, KEY.enter);
    await until(() => slack.received.length === 1 && sp.incidents.length === 1, 'both receivers to get the message', 20_000);
    await waitFor(app, /DONE/, 20_000);
    expect([...slack.violations, ...sp.violations]).toEqual([]);

    const posted = slack.received[0].body;
    expect(posted.blocks[0].text.text).toBe('Deployment started: v1.4.0 to production');
    expect(posted.blocks[1].text.text).toBe('Deployment of release v1.4.0 to production has started. Operator: alice. ETA 20 min.');
    const created = sp.received.find((q) => q.method === 'POST')!.body.incident;
    expect(created).toMatchObject({ name: 'Deployment of v1.4.0 to production', status: 'in_progress' });
    expect(created.body).toBe('Deployment of release v1.4.0 to production has started. Operator: alice. ETA 20 min.');

    const ev = await events(id);
    const sending = ev.filter((e) => e.type === 'notify.sending');
    expect(sending.map((e) => [e.actor, (e.data as any).channel, (e.data as any).edited, (e.data as any).editedBy])).toEqual([
      ['alice', 'chat', true, 'alice'],
      ['alice', 'statuspage', true, 'alice'],
    ]);
    for (const e of sending) expect((e.data as any).text).toMatch(/ETA 20 min\.$/);
    expect(ev.filter((e) => e.type === 'notify.delivered').map((e) => (e.data as any).channel)).toEqual(['chat', 'statuspage']);
    expect(JSON.stringify(ev)).not.toContain(SLACK_TOKEN);
    expect(JSON.stringify(ev)).not.toContain(API_KEY);
  }, 60_000);

  it('a retried step shows and sends the edit again (not the template) to the channel that failed, never twice to the other', async () => {
    const chat = await slackReceiver();
    // The ops channel refuses the first message (a permanent 404), then takes the next.
    const ops = await slackReceiver({ 1: (_q, res) => void res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service') });
    receivers.push(chat, ops);
    process.env.TEST_REVIEW_SLACK_URL = `${chat.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    process.env.TEST_REVIEW_OPS_URL = `${ops.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    repo.write(
      'cockpit.config.yaml',
      'notify:\n  chat:\n    type: slack\n    url: {env: TEST_REVIEW_SLACK_URL}\n  ops:\n    type: slack\n    url: {env: TEST_REVIEW_OPS_URL}\n',
    );
    repo.write(
      'checklists/tell.yaml',
      TELL.replace('channels: [chat, statuspage]\n    status: under_maintenance', 'channels: [chat, ops]'),
    );
    try {
      const { app, id } = await open();
      await waitFor(app, "step 'started' sends 'deployment-started'");
      await press(app, 'e');
      await waitFor(app, (x) => /^TYPE\s/.test(bar(x)));
      await type(app, ' Edited once.');
      await press(app, KEY.enter);
      let f = await waitFor(app, /FAILED/, 20_000);
      expect(f).toContain('not delivered to ops');
      expect(chat.received).toHaveLength(1);

      // r: the step runs again and shows the edit, said to be alice's, for the channel that is left.
      await press(app, 'r');
      f = await waitFor(app, '· edited by alice', 20_000);
      // The panel's channels: only the one that is left (the detail pane's description still names both).
      expect(f).toMatch(/^→ ops \(slack\): chat message/m);
      expect(f).not.toMatch(/^→ chat \(slack\)/m);
      expect(f).toContain('Operator: alice. Edited once.');
      await press(app, KEY.enter);
      await until(() => ops.received.length === 2, 'the ops receiver to get the message again', 20_000);
      await waitFor(app, /DONE/, 20_000);
      expect(ops.received[1].body.blocks[1].text.text).toMatch(/Operator: alice\. Edited once\.$/);
      expect(chat.received).toHaveLength(1);
      const sending = (await events(id)).filter((e) => e.type === 'notify.sending').map((e) => e.data as any);
      expect(sending.map((d) => [d.channel, d.edited, d.text.endsWith('Edited once.')])).toEqual([
        ['chat', true, true],
        ['ops', true, true],
        ['ops', true, true],
      ]);
    } finally {
      delete process.env.TEST_REVIEW_OPS_URL;
    }
  }, 60_000);

  it('s skips it with a reason: nothing is sent', async () => {
    const slack = await slackReceiver();
    receivers.push(slack);
    process.env.TEST_REVIEW_SLACK_URL = `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    repo.write('cockpit.config.yaml', 'notify:\n  chat:\n    type: slack\n    url: {env: TEST_REVIEW_SLACK_URL}\n');
    repo.write('checklists/tell.yaml', TELL.replace('channels: [chat, statuspage]\n    status: under_maintenance', 'channels: [chat]'));
    const { app, id } = await open();
    await waitFor(app, "step 'started' sends 'deployment-started'");
    await press(app, 's');
    await type(app, 'told them on the phone');
    await press(app, KEY.enter);
    await waitFor(app, /DONE/, 20_000);
    expect(slack.received).toHaveLength(0);
    expect((await events(id)).find((e) => e.type === 'step.skipped')?.data).toMatchObject({ reason: 'told them on the phone' });
  }, 30_000);
});
