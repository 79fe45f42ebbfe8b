/**
 * The operator's "issue or delay" update (README "Notifications"): after a failed step or a watch breach, `u` on the
 * session screen shows the rendered message and its channels, the operator may edit the text, and this sends it to
 * every `notify:` channel with the notify step's delivery (retries, the status page's read-before-write) and records
 * each delivery in the session, the operator as actor: `notify.sending` with the text sent and whether it was edited,
 * then `notify.retrying`, `notify.delivered` or `notify.failed`.
 */
import type { NewEvent } from '../core/events.js';
import type { NotifySettings } from '../core/notify/config.js';
import { deliver, type NotifyHttpAnswer, type NotifyHttpRequest } from '../core/notify/delivery.js';
import { issueUpdateOffer, type IssueUpdateOffer } from '../core/notify/issue-update.js';
import { formatDuration } from '../core/duration.js';
import type { IssueUpdates } from '../engine/live.js';

export interface IssueUpdatePorts {
  request(req: NotifyHttpRequest): Promise<NotifyHttpAnswer>;
  /** Wait; resolves early once `stopped()`. */
  sleep(ms: number): Promise<void>;
  /** The operator quit: no further try. */
  stopped(): boolean;
  now(): number;
  env: Readonly<Record<string, string | undefined>>;
}

const realPorts = (now: () => number, signal: AbortSignal): IssueUpdatePorts => ({
  // Loaded when an update is sent: start-up does not pay for node:http.
  request: async (req) => (await import('../adapters/notify.js')).spacedNotifyRequest(req, signal),
  sleep: (ms) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    }),
  stopped: () => signal.aborted,
  now,
  env: process.env,
});

/** The update for a session of this configuration: none without `notify:` channels (the key is then not offered). */
export function issueUpdates(settings: NotifySettings | undefined, now: () => number, ports?: IssueUpdatePorts): IssueUpdates | undefined {
  if (!settings || !Object.keys(settings.channels).length) return undefined;
  return {
    offer: (state, at) => issueUpdateOffer(state, settings, at),
    send: (offer, text, emit, signal) => sendIssueUpdate(settings, offer, text, emit, ports ?? realPorts(now, signal)),
  };
}

/** Send `text` (the offer's, or the operator's edit of it) to each of the offer's channels, recording each delivery. */
export async function sendIssueUpdate(
  settings: NotifySettings,
  offer: IssueUpdateOffer,
  text: string,
  emit: (events: NewEvent[]) => Promise<unknown>,
  ports: IssueUpdatePorts,
): Promise<{ text: string; tone: 'info' | 'error' }> {
  const sent = text.trim();
  const edited = sent !== offer.message.text;
  const message = { ...offer.message, text: sent };
  const at = ports.now();
  const delivered: string[] = [];
  const failed: string[] = [];
  let stopped = false;
  for (const ch of offer.channels) {
    const c = settings.channels[ch.name];
    if (!c || ports.stopped()) continue;
    // Each update is its own delivery: a webhook's Idempotency-Key differs from the last update's.
    const key = `issue-update/${at}/${c.name}`;
    await emit([
      {
        type: 'notify.sending',
        stepId: null,
        data: {
          channel: c.name,
          provider: c.type,
          message: offer.message.name,
          endpoint: ch.endpoint,
          key,
          ...(ch.status ? { status: ch.status } : {}),
          text: sent,
          edited,
          about: offer.about,
        },
      },
    ]);
    const r = await deliver(
      { channel: c, message, facts: offer.facts, status: ch.status, key, env: ports.env },
      {
        request: ports.request,
        sleep: ports.sleep,
        stopped: ports.stopped,
        now: ports.now,
        retrying: async (info) => {
          await emit([{ type: 'notify.retrying', stepId: null, data: { channel: c.name, ...info } }]);
        },
      },
    );
    if ('stopped' in r) {
      // The operator quit mid-delivery: what was sent may have arrived.
      await emit([
        {
          type: 'notify.failed',
          stepId: null,
          data: {
            channel: c.name,
            status: null,
            attempts: r.attempts,
            reason: 'stopped while sending (the cockpit quit)',
            uncertain: true,
          },
        },
      ]);
      stopped = true;
      continue;
    }
    if (r.ok) {
      await emit([
        {
          type: 'notify.delivered',
          stepId: null,
          data: { channel: c.name, status: r.status, messageId: r.messageId, attempts: r.attempts, detail: r.detail },
        },
      ]);
      delivered.push(c.name);
    } else {
      await emit([
        {
          type: 'notify.failed',
          stepId: null,
          data: { channel: c.name, status: r.status, attempts: r.attempts, reason: r.reason, ...(r.uncertain ? { uncertain: true } : {}) },
        },
      ]);
      failed.push(`${c.name}: ${r.reason}`);
    }
  }
  const took = formatDuration(Math.max(0, ports.now() - at));
  if (stopped || ports.stopped())
    return { text: `update stopped while sending${delivered.length ? `; delivered to ${delivered.join(', ')}` : ''}`, tone: 'error' };
  if (failed.length)
    return {
      text: `update${edited ? ' (edited)' : ''} not delivered to ${failed.join('; ')}${delivered.length ? `; delivered to ${delivered.join(', ')}` : ''}`,
      tone: 'error',
    };
  return { text: `update${edited ? ' (edited)' : ''} delivered to ${delivered.join(', ')} in ${took}`, tone: 'info' };
}
