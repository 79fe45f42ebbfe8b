import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/cli/config.js';
import { maskedUrl, notifySecretValues, notifySettings } from '../../src/core/notify/config.js';
import {
  answerExcerpt,
  backoffMs,
  deliver,
  retryAfterMs,
  slackPayload,
  transientStatus,
  webhookPayload,
  windowTimes,
  type NotifyHttpAnswer,
  type NotifyHttpRequest,
} from '../../src/core/notify/delivery.js';
import { factsFromParams, MESSAGE_NAMES, NO_FACTS, renderMessage, type MessageFacts } from '../../src/core/notify/templates.js';
import type { AuditEvent, PlanNode } from '../../src/core/events.js';
import { reduceAll } from '../../src/core/reducer.js';
import { notifyStep } from '../../src/steps/notify.js';
import { detailLines } from '../../src/tui/components/DetailPane.js';

const dir = mkdtempSync(path.join(tmpdir(), 'notify-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = path.join(dir, 'cockpit.config.yaml');
  writeFileSync(file, yaml);
  return loadConfig(file, true);
}

const FULL: MessageFacts = {
  version: '1.4.0',
  environment: 'production',
  operator: 'alice',
  window: { start: '2026-12-08T22:00Z', length: '90m' },
  failingStep: { title: 'Smoke the new colour', reason: 'HTTP 502 on /up' },
  recovery: '6m12s of the 15m objective',
  notesUrl: 'https://example.com/notes/1.4.0',
};

describe('message templates', () => {
  it('each names the release and where it goes, with what the session knows', () => {
    const texts = Object.fromEntries(MESSAGE_NAMES.map((n) => [n, renderMessage(n, FULL)]));
    expect(texts['release-announcement'].text).toBe(
      'Release v1.4.0 is planned for production on 2026-12-08T22:00Z. Expected maintenance: 1h30m. What changes: https://example.com/notes/1.4.0 A maintenance window follows at least 24 hours before the deployment.',
    );
    expect(texts['maintenance-window'].text).toContain('starts 2026-12-08T22:00Z, expected to last 1h30m');
    expect(texts['deployment-started']).toEqual({
      name: 'deployment-started',
      title: 'Deployment started: v1.4.0 to production',
      text: 'Deployment of release v1.4.0 to production has started. Expected to take 1h30m. Operator: alice.',
    });
    expect(texts['issue-or-delay'].text).toBe(
      "Deployment of release v1.4.0 to production is delayed: step 'Smoke the new colour' failed: HTTP 502 on /up. Recovery: 6m12s of the 15m objective. We are working on it; the next update follows. Operator: alice.",
    );
    expect(texts['rollback-notice'].text).toContain("is being rolled back after step 'Smoke the new colour' failed (HTTP 502 on /up)");
    expect(texts['deployment-confirmation'].text).toContain('Release notes: https://example.com/notes/1.4.0');
    expect(texts['status-operational'].title).toBe('Operational: v1.4.0 to production');
  });

  it('an issue update in a rollback session speaks of the rollback, not of a deployment of the version it goes back to', () => {
    const m = renderMessage('issue-or-delay', { ...FULL, version: '1.3.0', rollingBack: true });
    expect(m.title).toBe('Issue or delay: rollback of production to v1.3.0');
    expect(m.text).toBe(
      "The rollback of production to v1.3.0 is delayed: step 'Smoke the new colour' failed: HTTP 502 on /up. Recovery: 6m12s of the 15m objective. We are working on it; the next update follows. Operator: alice.",
    );
  });

  it('a rollback notice after the session rolled back names the version it went back to, not the one withdrawn', () => {
    const m = renderMessage('rollback-notice', {
      ...FULL,
      version: '1.3.0',
      failingStep: null,
      rolledBack: { env: 'production', to: '1.3.0', how: 'switch-back' },
    });
    expect(m.title).toBe('Rollback: production back on 1.3.0');
    expect(m.text).toBe(
      'Production was rolled back to 1.3.0 (traffic switched back to the colour still running it). Recovery: 6m12s of the 15m objective. The next update follows. Operator: alice.',
    );
  });

  it('says what it does not know without inventing it', () => {
    expect(renderMessage('maintenance-window', NO_FACTS).text).toBe(
      'Maintenance window for the release: start to be confirmed. Expect short interruptions while it runs; status updates follow here and on the status page.',
    );
    expect(renderMessage('issue-or-delay', NO_FACTS).text).toBe(
      'Deployment of the release is delayed: it is taking longer than planned. We are working on it; the next update follows.',
    );
  });

  it('a text override replaces the body and keeps the title', () => {
    const m = renderMessage('issue-or-delay', FULL, '  Database failover in progress.  ');
    expect(m).toMatchObject({ title: 'Issue or delay: v1.4.0 to production', text: 'Database failover in progress.' });
  });

  it('reads the facts from the parameters (environment, else target)', () => {
    expect(factsFromParams({ version: 'v2', target: 'staging', window_length: '2h' })).toMatchObject({
      version: 'v2',
      environment: 'staging',
      window: { start: null, length: '2h' },
    });
    expect(factsFromParams({ environment: 'production', target: 'staging' }).environment).toBe('production');
  });
});

describe('delivery rules', () => {
  it('retries timeouts, throttling (429, 420) and server errors, never other refusals', () => {
    expect([408, 420, 429, 500, 502, 503].every(transientStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 422].some(transientStatus)).toBe(false);
  });

  it('waits as Retry-After says (seconds or a date, capped at 2 minutes), else 1 s doubling to 30 s', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Sun, 06 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon', now)).toBe(null);
    expect([1, 2, 3, 6, 9].map((a) => backoffMs(a, null))).toEqual([1000, 2000, 4000, 30_000, 30_000]);
    expect(backoffMs(1, 3_600_000)).toBe(120_000);
  });

  it('Slack gets text (the fallback) and blocks, with &, < and > escaped', () => {
    const p = slackPayload({ name: 'deployment-started', title: 'A <b> & c', text: 'x > y' });
    expect(p.text).toBe('A &lt;b&gt; &amp; c\nx &gt; y');
    expect(p.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'A <b> & c', emoji: false } });
    expect(p.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'x &gt; y' } });
  });

  it('a webhook template is filled field by field, so a message cannot break its JSON', () => {
    const channel = notifySettings({ h: { type: 'webhook', url: 'http://x.invalid/h', components: [] } as never })!.channels.h;
    const d = {
      channel,
      message: { name: 'deployment-started' as const, title: 'T "quoted"', text: 'line\n"two"' },
      facts: FULL,
      status: null,
      key: 'k1',
      env: {},
    };
    expect(webhookPayload(d, { msg: '${title}: ${text}', n: 3, tags: ['${version}', '${nope}'] })).toEqual({
      msg: 'T "quoted": line\n"two"',
      n: 3,
      tags: ['1.4.0', '${nope}'],
    });
  });

  it("the release the session published is linked in the notes: Slack's <url|words>, a webhook's ${published_url}", () => {
    const url = 'https://forge.example.test/acme/app/releases/tag/v1.4.0?a=1&b=2';
    const facts: MessageFacts = {
      ...FULL,
      notes: { text: '## 1.4.0\n\n- a fix', file: 'CHANGELOG.md' },
      published: { version: '1.4.0', url },
    };
    const m = renderMessage('release-notes', facts);
    expect(m.text).toBe(`- a fix\n\nPublished: ${url}`);
    const p = slackPayload(m);
    const link = '<https://forge.example.test/acme/app/releases/tag/v1.4.0?a=1&amp;b=2|v1.4.0 release>';
    expect(p.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: `- a fix\n\nPublished: ${link}` } });
    expect(p.text.endsWith(`Published: ${link}`)).toBe(true);
    // An edit that drops the URL drops the link; one that keeps it keeps the link.
    expect(slackPayload({ ...m, text: 'no link now' }).blocks[1]).toMatchObject({ text: { text: 'no link now' } });
    expect(slackPayload({ ...m, text: `see ${url}` }).blocks[1]).toMatchObject({ text: { text: `see ${link}` } });
    // Without a publication, notes_url stays the notes' address.
    expect(renderMessage('release-notes', { ...facts, published: null }).text).toBe(`- a fix\n\nPublished: ${FULL.notesUrl}`);

    const channel = notifySettings({ h: { type: 'webhook', url: 'http://x.invalid/h' } as never })!.channels.h;
    const d = { channel, message: m, facts, status: null, key: 'k1', env: {} };
    expect(webhookPayload(d, { notes: '${text}', link: '${published_url}' })).toEqual({ notes: m.text, link: url });
    expect(webhookPayload(d, undefined)).toMatchObject({ published_url: url });
    expect(webhookPayload({ ...d, facts: FULL }, undefined)).not.toHaveProperty('published_url');
  });

  it('answers are shown neutralised, on one line, cut', () => {
    expect(answerExcerpt('bad\u001b[2J\n  token')).toBe('bad␛[2J token');
    expect(answerExcerpt('x'.repeat(1000))).toHaveLength(301);
  });

  it('a maintenance window needs a real start and length', () => {
    expect(windowTimes({ ...NO_FACTS, window: { start: '2026-12-08T22:00Z', length: '2h' } }, 0)).toEqual({
      from: '2026-12-08T22:00:00.000Z',
      until: '2026-12-09T00:00:00.000Z',
    });
    expect(windowTimes({ ...NO_FACTS, window: { start: 'tomorrow', length: null } }, 0)).toEqual({
      error: "window_start 'tomorrow' is not a date and time (e.g. 2026-12-08T22:00Z)",
    });
  });

  it('gives up after the channel attempts, and an unset secret sends nothing', async () => {
    const channel = notifySettings({ chat: { type: 'slack', url: { env: 'NOTIFY_UNIT_URL' }, attempts: 2 } })!.channels.chat;
    const sent: NotifyHttpRequest[] = [];
    const ports = {
      request: async (r: NotifyHttpRequest): Promise<NotifyHttpAnswer> => {
        sent.push(r);
        return { ok: true, status: 503, body: 'busy', retryAfter: null };
      },
      sleep: async () => undefined,
      stopped: () => false,
      retrying: async () => undefined,
      now: () => 0,
    };
    const base = { channel, message: renderMessage('deployment-started', FULL), facts: FULL, status: null, key: 'k' };
    expect(await deliver({ ...base, env: {} }, ports)).toEqual({
      ok: false,
      status: null,
      attempts: 0,
      reason: "channel 'chat' reads $NOTIFY_UNIT_URL, which is not set: nothing was sent",
    });
    expect(sent).toEqual([]);
    expect(await deliver({ ...base, env: { NOTIFY_UNIT_URL: 'http://127.0.0.1:9/x' } }, ports)).toEqual({
      ok: false,
      status: 503,
      attempts: 2,
      reason: 'HTTP 503: busy (after 2 attempts)',
      answer: 'busy',
    });
    expect(sent).toHaveLength(2);
  });
});

describe('the notify: section of cockpit.config.yaml', () => {
  it('resolves channels with their defaults; secrets print as [secret] and are registered whole and by path', () => {
    const c = load(
      [
        'notify:',
        '  chat: {type: slack, url: "https://hooks.slack.com/services/T1/B1/abcdefghijkl"}',
        '  status:',
        '    type: statuspage',
        '    page: p1',
        '    apiKey: {env: SP_KEY}',
        '    components: [c1]',
        '',
      ].join('\n'),
    );
    const s = notifySettings(c.notify)!;
    expect(s.channels.status).toMatchObject({ type: 'statuspage', url: 'https://api.statuspage.io/v1', timeoutMs: 10_000, attempts: 4 });
    const chat = s.channels.chat;
    expect(chat.type === 'slack' && maskedUrl(chat.url)).toBe('https://hooks.slack.com/[secret]');
    expect(JSON.stringify(s)).not.toContain('abcdefghijkl');
    expect(notifySecretValues(s.channels, { SP_KEY: 'key-123456' }).sort()).toEqual(
      ['https://hooks.slack.com/services/T1/B1/abcdefghijkl', '/services/T1/B1/abcdefghijkl', 'key-123456'].sort(),
    );
  });

  it('refuses a bad channel at its file:line:column', () => {
    let message = '';
    try {
      load(['notify:', '  chat:', '    type: slak', '    url: x', '  sp:', '    type: statuspage', '    page: p1', ''].join('\n'));
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/cockpit\.config\.yaml:3:11: .*expected type: slack, webhook or statuspage/);
    expect(message).toMatch(/cockpit\.config\.yaml:6:5: .*apiKey/);
  });
});

describe('the screen before a message is sent', () => {
  it("the detail pane shows the channels before the step starts, then each channel's endpoint and the message as it is sent", () => {
    const node: PlanNode = {
      path: 'tell',
      id: 'tell',
      title: 'Tell',
      kind: 'notify',
      depth: 0,
      parent: null,
      checklist: 'c',
      scope: '',
      spec: { message: 'deployment-started', channels: ['chat'] },
    };
    const params = { version: '1.4.0', target: 'production' };
    let seq = 0;
    const ev = (type: string, stepId: string | null, data: unknown) =>
      ({ sessionId: 's1', seq: ++seq, time: 1000 * seq, type, stepId, actor: 'ana', data }) as AuditEvent;
    const started = ev('session.started', null, {
      checklist: { id: 'c', title: 'C', sha256: 'x' },
      origin: { file: 'c', byId: true },
      params,
      environment: null,
      operator: 'ana',
      host: 'h',
      pid: 1,
      mode: 'interactive',
      version: '0.1.0',
      plan: [node],
      scopes: { '': { checklist: 'c', params } },
    });
    const text = (events: AuditEvent[]) => detailLines(reduceAll(events)!, 0, 400, null).lines.map((l) => l.text);
    expect(text([started])).toContain("sends 'deployment-started' to chat; the message as sent is shown when it starts");
    const settings = { notify: notifySettings({ chat: { type: 'slack', url: { env: 'SLACK_WEBHOOK_URL' } } }, 'ana') };
    const description = notifyStep.describe(node, params, settings);
    const shown = text([started, ev('step.started', 'tell', { attempt: 1, description })]);
    expect(shown).toContain("send 'deployment-started' to chat: Deployment started: v1.4.0 to production");
    expect(shown).toContain('  → chat (slack): POST $SLACK_WEBHOOK_URL [timeout 10s, 4 attempts]');
    expect(shown.find((l) => l.includes('"blocks"'))).toContain(
      '"text":"Deployment started: v1.4.0 to production\\nDeployment of release v1.4.0 to production has started. Operator: ana."',
    );
  });
});
