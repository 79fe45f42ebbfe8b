import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import {
  API_KEY,
  PAGE,
  SLACK_TOKEN,
  slackReceiver,
  statuspageReceiver,
  type Receiver,
  type StatusPage,
} from '../helpers/notify-receivers.js';
import { Tmux } from '../helpers/tmux.js';

/**
 * The one-key "issue or delay" update in a real terminal: the real cockpit bin in tmux runs a deploy whose step
 * fails; `u` shows the rendered update and its channels, the operator types more into it and sends it. A real Slack
 * receiver and a Statuspage receiver on loopback (free ports) check each request against the provider's format; the
 * audit log has the deliveries, the operator as actor, with the text sent and the edit flag.
 */

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

const FAILS = `id: fails
title: Deploy that fails
params:
  version: {type: string, default: 2.3.0}
  environment: {type: string, default: production}
steps:
  - id: deploy
    title: Deploy the release
    kind: run
    run: echo "health check failed"; exit 3
`;

let repo: ReturnType<typeof tempRepo>;
let receivers: Receiver[] = [];
let term: Tmux | null = null;
beforeEach(() => {
  repo = tempRepo({ fails: FAILS });
});
afterEach(async () => {
  term?.kill();
  term = null;
  await closeStores();
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
  repo.cleanup();
});

describe.skipIf(!tmuxOk.ok)("the 'issue or delay' update key in a terminal (tmux 120x32)", () => {
  it('u shows the update, the typed edit is sent to chat and the status page, and the deliveries are recorded', async () => {
    const slack = await slackReceiver();
    const sp: StatusPage = await statuspageReceiver();
    receivers.push(slack, sp);
    repo.write(
      'cockpit.config.yaml',
      `notify:\n  chat:\n    type: slack\n    url: {env: TEST_SLACK_URL}\n  status:\n    type: statuspage\n    url: ${sp.url}/v1\n    page: ${PAGE}\n    apiKey: ${API_KEY}\n    components: [cmpA]\n`,
    );
    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} run fails`, {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'tester', NO_COLOR: '1', TEST_SLACK_URL: `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}` },
      width: 120,
      height: 32,
    });
    await term.waitFor((s) => /FAILED\s+s skip\s+r retry\s+n note\s+u update channels\s+a abort/.test(s), 'the failed step', 30_000);
    term.send('u');
    let screen = await term.waitFor((s) => s.includes("'issue or delay' update: step 'deploy' failed"), 'the update shown');
    expect(screen).toContain('to chat (slack), status (statuspage → degraded_performance)');
    expect(screen).toContain('Issue or delay: v2.3.0 to production');
    term.type(' Next update at 18:30 UTC.');
    screen = await term.waitFor((s) => s.includes('· edited'), 'the edit shown');
    expect(screen.replace(/\s+/g, ' ')).toContain('Operator: tester. Next update at 18:30 UTC.');
    term.send('Enter');
    screen = await term.waitFor((s) => s.includes('update (edited) delivered to chat, status'), 'the update delivered', 30_000);
    expect(screen).not.toContain(SLACK_TOKEN);
    expect(screen).not.toContain(API_KEY);

    expect([...slack.violations, ...sp.violations]).toEqual([]);
    expect(slack.received).toHaveLength(1);
    expect(slack.received[0].body.blocks[0].text.text).toBe('Issue or delay: v2.3.0 to production');
    expect(slack.received[0].body.blocks[1].text.text).toMatch(
      /^Deployment of release v2\.3\.0 to production is delayed: step 'Deploy the release' failed.* Operator: tester\. Next update at 18:30 UTC\.$/,
    );
    // The status page: an incident for the release, identified, its component degraded, with the same words.
    expect(sp.incidents).toMatchObject([{ name: 'Deployment of v2.3.0 to production', status: 'identified' }]);
    expect(sp.components.cmpA.at(-1)).toBe('degraded_performance');
    const created = sp.received.find((q) => q.method === 'POST')!;
    expect(created.body.incident.body).toMatch(/Next update at 18:30 UTC\.$/);

    term.send('q');
    await term.waitFor(() => term!.exitStatus() !== null, 'the cockpit to quit');
    const store = await new Workspace({ repo: repo.dir }).openStore();
    const [session] = await store.listSessions(1);
    const events = await store.readEvents(session.id);
    const sending = events.filter((e) => e.type === 'notify.sending');
    expect(sending.map((e) => [e.actor, e.stepId, (e.data as { channel: string }).channel])).toEqual([
      ['tester', null, 'chat'],
      ['tester', null, 'status'],
    ]);
    for (const e of sending) {
      expect(e.data).toMatchObject({ message: 'issue-or-delay', edited: true, about: 'deploy' });
      expect((e.data as { text: string }).text).toMatch(/Next update at 18:30 UTC\.$/);
    }
    expect(events.filter((e) => e.type === 'notify.delivered').map((e) => [e.actor, (e.data as { channel: string }).channel])).toEqual([
      ['tester', 'chat'],
      ['tester', 'status'],
    ]);
    // `audit show` says whose update it was, what it was about and the words as sent.
    const shown = cockpit(['--repo', repo.dir, 'audit', 'show', session.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /tester's update about 'deploy': sending issue-or-delay to chat \(slack, POST \$TEST_SLACK_URL\); edited: ".*Next update at 18:30 UTC\."/,
    );
    expect(shown.stdout).toContain("tester's update: delivered to status");
    expect(JSON.stringify(events)).not.toContain(SLACK_TOKEN);
    expect(JSON.stringify(events)).not.toContain(API_KEY);
  }, 90_000);
});
