import { z } from 'zod';
import { interpolate } from '../core/params.js';
import type { StoredEvent } from '../core/events.js';
import {
  describeSecret,
  STATUSPAGE_STATUSES,
  type NotifyChannel,
  type NotifySettings,
  type StatuspageStatus,
} from '../core/notify/config.js';
import {
  deliver,
  endpointWords,
  incidentName,
  windowTimes,
  retryWords,
  slackPayload,
  statuspagePlan,
  webhookPayload,
  type DeliveryResult,
} from '../core/notify/delivery.js';
import { factsFromParams, MESSAGE_NAMES, renderMessage, type MessageFacts, type RenderedMessage } from '../core/notify/templates.js';
import { formatDuration } from '../core/duration.js';
import { changelogSection } from '../core/release/notes.js';
import { checkTemplates } from './git-common.js';
import { defineStepKind } from './define.js';
import type { MessageReview, ReviewDecision, StepOutcome } from './types.js';

const fields = {
  /** The message template (core/notify/templates.ts). */
  message: z.enum(MESSAGE_NAMES),
  /** Channel names from the config's `notify:`. */
  channels: z.array(z.string().min(1)).min(1),
  /** For status page channels: the components' status to set (without it, a maintenance is scheduled from window_start). */
  status: z.enum(STATUSPAGE_STATUSES).optional(),
  /** The message's text instead of the template's (its `${param}`s filled); the title stays the template's. */
  text: z.string().min(1).optional(),
  /**
   * `warn`: a channel that fails is recorded (⚠ in the timeline and `audit show`) and the step passes anyway: a
   * rollback's notice must never hold up the rollback (its recovery clock stops when the session ends). Default `fail`.
   */
  onFailure: z.enum(['fail', 'warn']).optional(),
  /** For the `release-notes` message: the changelog whose section for the version is the message (default CHANGELOG.md). */
  changelog: z.string().min(1).optional(),
};

/** The `release-notes` message's body: the version's section of the changelog, when it has one. */
function releaseNotes(read: (rel: string) => string | null, file: string, version: string | null): MessageFacts['notes'] {
  if (!version) return null;
  const section = changelogSection(read(file) ?? '', version);
  return section ? { text: section, file } : null;
}

const HOW_TO_CONFIGURE =
  'add channels under notify: in cockpit.config.yaml (type: slack with url: {env: NAME}, type: statuspage with page, apiKey and components, or type: webhook; README "Notifications")';

/** The step's channels that the config has, and those it does not. */
function split(names: string[], settings: NotifySettings | undefined): { configured: NotifyChannel[]; missing: string[] } {
  const channels = settings?.channels ?? {};
  return {
    configured: names.flatMap((n) => (Object.hasOwn(channels, n) ? [channels[n]] : [])),
    missing: names.filter((n) => !Object.hasOwn(channels, n)),
  };
}

/** What would go out on `c`: the method and endpoint (secrets masked), then the body as it would be sent. */
function wire(c: NotifyChannel, m: RenderedMessage, facts: MessageFacts, status: StatuspageStatus | null, key: string): [string, string] {
  const tries = `[${retryWords(c)}]`;
  switch (c.type) {
    case 'slack':
      return [`${c.name} (slack): ${endpointWords(c)} ${tries}`, JSON.stringify(slackPayload(m))];
    case 'webhook':
      return [
        `${c.name} (webhook): ${endpointWords(c)} ${tries}`,
        JSON.stringify(webhookPayload({ channel: c, message: m, facts, status, key, env: {} }, c.template)),
      ];
    case 'statuspage':
      return [
        `${c.name} (statuspage${status ? ` ${status}` : ''}): ${statuspagePlan(c, status, facts)}; Authorization: OAuth ${describeSecret(c.apiKey)} ${tries}`,
        `body: ${m.text}`,
      ];
  }
}

type Mark = { state: 'delivered' | 'possibly-delivered' | 'failed'; seq: number; why?: string };

/** Where each channel's delivery stands in this step's recorded events (earlier attempts included). */
function marks(events: StoredEvent[]): Map<string, Mark> {
  const out = new Map<string, Mark>();
  for (const e of events) {
    if (e.type === 'notify.sending')
      out.set(e.data.channel, { state: 'possibly-delivered', seq: e.seq, why: 'was being sent when the cockpit stopped' });
    else if (e.type === 'notify.delivered') out.set(e.data.channel, { state: 'delivered', seq: e.seq });
    else if (e.type === 'notify.failed')
      out.set(
        e.data.channel,
        e.data.uncertain
          ? { state: 'possibly-delivered', seq: e.seq, why: `was sent, then: ${e.data.reason}` }
          : { state: 'failed', seq: e.seq },
      );
  }
  return out;
}

/** What a channel shows of the message: a chat's title (the text follows), a status page's incident or maintenance and status. */
function shows(c: NotifyChannel, m: RenderedMessage, facts: MessageFacts, status: StatuspageStatus | null): string {
  switch (c.type) {
    case 'slack':
      return `chat message '${m.title}' with the text below`;
    case 'webhook':
      return `JSON (its template) with title '${m.title}' and the text below`;
    case 'statuspage': {
      if (status) return `incident '${incidentName(facts)}' → ${status}, body: the text below`;
      const w = windowTimes(facts, Date.parse('2000-01-01T00:00:00Z'));
      const when = 'error' in w ? w.error : facts.window?.start ? `${w.from} to ${w.until}` : '(needs window_start)';
      return `maintenance '${incidentName(facts)}' scheduled ${when}, body: the text below`;
    }
  }
}

type Reviewed =
  | { outcome: StepOutcome }
  | {
      text: string;
      /** What notify.sending records of the review: the text and whether (and by whom) it was edited. */
      record: { text?: string; edited?: boolean; editedBy?: string };
      /** Who let it go, when a person did. */
      actor?: string;
      /** Said in the step's output: why nobody reviewed it. */
      said?: string;
    };

/**
 * The message shown to the operator before it is sent: send it, edit it, skip the step (a reason) or abort. The text
 * an earlier attempt of this step sent as edited is what is shown, and sent, again: never the template once more.
 */
async function review(
  ctx: { review(m: MessageReview): Promise<ReviewDecision>; spec: { message: string; status?: StatuspageStatus }; node: { path: string } },
  m: RenderedMessage,
  facts: MessageFacts,
  pending: NotifyChannel[],
  history: StoredEvent[],
): Promise<Reviewed> {
  const earlier = [...history].reverse().find((e) => e.type === 'notify.sending' && e.data.edited && e.data.text !== undefined);
  const prior =
    earlier?.type === 'notify.sending' && earlier.data.text !== undefined
      ? { text: earlier.data.text, by: earlier.data.editedBy ?? earlier.actor, seq: earlier.seq }
      : null;
  const text = prior?.text ?? m.text;
  const d = await ctx.review({
    message: m.name,
    title: m.title,
    text,
    edited: prior ? { by: prior.by } : null,
    channels: pending.map((c) => ({
      name: c.name,
      provider: c.type,
      endpoint: endpointWords(c),
      shows: shows(c, m, facts, c.type === 'statuspage' ? (ctx.spec.status ?? null) : null),
    })),
  });
  switch (d.decision) {
    case 'skip':
      return { outcome: { status: 'skipped', reason: d.reason } };
    case 'abort':
      return { outcome: { status: 'aborted', reason: d.reason } };
    case 'unavailable':
      return {
        outcome: {
          status: 'waiting',
          message: `step '${ctx.node.path}': '${ctx.spec.message}' waits to be reviewed (send, edit or skip it)`,
          hint: d.hint,
        },
      };
    case 'unattended':
      return prior
        ? {
            text: prior.text,
            record: { text: prior.text, edited: true, editedBy: prior.by },
            said: `sent as ${prior.by} edited it (event #${prior.seq}), not the template again: ${d.why}, so nobody reviewed it now`,
          }
        : { text: m.text, record: {}, said: `sent as the template renders it: ${d.why}, so nobody reviewed or edited it` };
    case 'send': {
      const sent = d.text.trim() || text;
      const changed = sent !== text;
      const edited = sent !== m.text;
      const editedBy = changed ? d.by : (prior?.by ?? d.by);
      return {
        text: sent,
        actor: d.by,
        record: { text: sent, edited, ...(edited ? { editedBy } : {}) },
        ...(edited ? { said: `sent as ${editedBy} edited it` } : {}),
      };
    }
  }
}

/**
 * Sends one of the policy's messages to named channels (chat webhooks, a generic webhook, the status page). Each
 * delivery is recorded before its first request (`notify.sending`) and after its answer, so a resume never sends
 * what was delivered, and asks before sending what a crash may have delivered. Without a `notify:` config it has
 * nothing to do (○), so the default checklists run anywhere.
 */
export const notifyStep = defineStepKind({
  kind: 'notify',
  fields,
  needs: ['notify', 'history', 'record', 'log', 'confirm', 'review', 'sleep', 'clock', 'files'],
  // It reads its own record first: what was delivered is not sent again, what may have been is asked about.
  rerunSafe: true,
  validate: (spec, params) => checkTemplates(spec, params, ['text']),
  describe({ spec, params, settings }) {
    const facts: MessageFacts = { ...factsFromParams(params), operator: settings?.notify?.operator ?? null };
    const changelog = interpolate(spec.changelog ?? 'CHANGELOG.md', params);
    // Nothing is read for a description: the body stands for the section the step will read when it runs.
    if (spec.message === 'release-notes')
      facts.notes = {
        text: `(the section for ${facts.version ?? 'the version'} of ${changelog}, as it is when the step runs)`,
        file: changelog,
      };
    const m = renderMessage(spec.message, facts, spec.text && interpolate(spec.text, params));
    const { configured, missing } = split(spec.channels, settings?.notify);
    const head = `send '${spec.message}' to ${spec.channels.join(', ')}`;
    const lines = [`${head}: ${m.title}`];
    if (spec.message === 'release-notes')
      lines.push(`  the text is the section for ${facts.version ?? 'the version'} of ${changelog} when it runs (cut for the chat)`);
    if (spec.onFailure === 'warn') lines.push('  a channel that fails is recorded (⚠) and the step passes anyway (onFailure: warn)');
    if (!configured.length) {
      lines.push(`  no channel of these is configured, so nothing would be sent: ${HOW_TO_CONFIGURE}`, `  text: ${m.text}`);
      return lines.join('\n');
    }
    for (const c of configured) {
      const [head, body] = wire(c, m, facts, spec.status ?? null, `<session>/<step>/${c.name}`);
      lines.push(`  → ${head}`, `      ${body}`);
    }
    for (const n of missing) lines.push(`  → ${n}: not configured under notify:, not sent`);
    return lines.join('\n');
  },
  async execute(ctx) {
    const { spec } = ctx;
    const settings = ctx.notify.settings;
    const { configured, missing } = split(spec.channels, settings);
    if (!configured.length)
      return {
        status: 'passed',
        nothingToCheck:
          settings?.channels && Object.keys(settings.channels).length
            ? `none of ${spec.channels.join(', ')} is a channel under notify: in cockpit.config.yaml (it has ${Object.keys(settings.channels).join(', ')}), so '${spec.message}' was not sent`
            : `no notify: channels are configured, so '${spec.message}' was not sent; to send it, ${HOW_TO_CONFIGURE}`,
      };
    const facts = ctx.notify.facts(ctx.params);
    if (spec.message === 'release-notes') {
      const file = interpolate(spec.changelog ?? 'CHANGELOG.md', ctx.params);
      facts.notes = releaseNotes((rel) => ctx.files.read(rel), file, facts.version);
      // No approved notes for the version (no notes step ran here): nothing to post, said, rather than a stopped deploy.
      if (!facts.notes && !spec.text)
        return {
          status: 'passed',
          nothingToCheck: `${file} has no section for ${facts.version ?? 'the release (no version parameter)'}, so no release notes were sent (the release's notes step writes it)`,
        };
    }
    const rendered = renderMessage(spec.message, facts, spec.text && interpolate(spec.text, ctx.params));
    const history = await ctx.history();
    const before = marks(history);
    const pending = configured.filter((c) => before.get(c.name)?.state !== 'delivered');
    // What a crash may have delivered is asked about first: the message is shown afterwards, for what is to be sent.
    for (const c of pending) {
      const mark = before.get(c.name);
      if (mark?.state !== 'possibly-delivered') continue;
      const d = await ctx.confirm(
        `'${rendered.title}' to ${c.name} ${mark.why} (event #${mark.seq}): it may have been delivered. Send it again?`,
      );
      if (d.decision === 'skip') return { status: 'skipped', reason: d.reason };
      if (d.decision === 'abort') return { status: 'aborted', reason: d.reason };
      if (d.decision === 'unavailable')
        return {
          status: 'waiting',
          message: `step '${ctx.node.path}': '${spec.message}' to ${c.name} is possibly delivered (it ${mark.why}); check the channel, then say whether to send it again`,
          hint: d.hint,
        };
      await ctx.record([
        {
          type: 'step.confirmed',
          actor: d.by,
          data: { by: d.by, via: d.via, note: d.note ?? `send '${spec.message}' to ${c.name} again, although possibly delivered` },
        },
      ]);
    }
    // What it sends: shown to the operator first (send, edit, skip); an edit recorded by an earlier attempt is what a resume sends.
    const sent = pending.length ? await review(ctx, rendered, facts, pending, history) : { text: rendered.text, record: {} };
    if ('outcome' in sent) return sent.outcome;
    const m: RenderedMessage = { ...rendered, text: sent.text };
    ctx.log(`${m.title}\n${m.text}`);
    if (sent.said) ctx.log(sent.said);
    for (const n of missing) ctx.log(`${n}: not configured under notify: in cockpit.config.yaml, not sent`);

    const failures: string[] = [];
    const warnings: string[] = [];
    for (const c of configured) {
      const mark = before.get(c.name);
      if (mark?.state === 'delivered') {
        ctx.log(`${c.name}: already delivered (event #${mark.seq}), not sent again`);
        continue;
      }
      const key = ctx.notify.key(c.name);
      const status = c.type === 'statuspage' ? (spec.status ?? null) : null;
      await ctx.record([
        {
          type: 'notify.sending',
          ...(sent.actor ? { actor: sent.actor } : {}),
          data: {
            channel: c.name,
            provider: c.type,
            message: spec.message,
            endpoint: endpointWords(c),
            key,
            ...(status ? { status } : {}),
            ...sent.record,
          },
        },
      ]);
      const r: DeliveryResult = await deliver(
        { channel: c, message: m, facts, status, key, env: ctx.notify.env },
        {
          request: ctx.notify.request,
          sleep: (ms) => ctx.sleep(ms, ctx.signal),
          stopped: () => ctx.signal.aborted,
          now: () => ctx.clock.now(),
          retrying: async (info) => {
            ctx.log(`${c.name}: try ${info.attempt} failed (${info.reason}); trying again in ${formatDuration(info.waitMs)}`);
            await ctx.record([{ type: 'notify.retrying', data: { channel: c.name, ...info } }]);
          },
        },
      );
      if ('stopped' in r) return { status: 'aborted', reason: 'stopped while sending' };
      if (r.ok) {
        await ctx.record([
          {
            type: 'notify.delivered',
            data: { channel: c.name, status: r.status, messageId: r.messageId, attempts: r.attempts, detail: r.detail },
          },
        ]);
        ctx.log(
          `✔ ${c.name}: delivered, HTTP ${r.status}${r.messageId ? `, id ${r.messageId}` : ''}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''} (${r.detail})`,
        );
      } else {
        await ctx.record([
          {
            type: 'notify.failed',
            data: {
              channel: c.name,
              status: r.status,
              attempts: r.attempts,
              reason: r.reason,
              ...(r.uncertain ? { uncertain: true } : {}),
              ...(spec.onFailure === 'warn' ? { onFailure: 'warn' as const } : {}),
            },
          },
        ]);
        const what = r.uncertain ? 'no answer, so perhaps delivered (a retry asks first)' : 'not delivered';
        if (spec.onFailure === 'warn') {
          ctx.log(`⚠ ${c.name}: ${what}: ${r.reason} (onFailure: warn: recorded, the step goes on without it)`);
          warnings.push(c.name);
          continue;
        }
        ctx.log(`✘ ${c.name}: ${what}: ${r.reason}`);
        failures.push(`${c.name}${r.uncertain ? ' (no answer: perhaps delivered)' : ''}: ${r.reason}`);
      }
    }
    if (failures.length)
      return { status: 'failed', exitCode: null, reason: `not delivered to ${failures.join('; ')}` } satisfies StepOutcome;
    if (warnings.length && warnings.length === configured.length)
      return {
        status: 'passed',
        nothingToCheck: `'${spec.message}' was not delivered to ${warnings.join(', ')}; onFailure: warn records it (⚠) and lets the session go on`,
      };
    return { status: 'passed' };
  },
});
