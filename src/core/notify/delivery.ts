/**
 * How one message reaches one channel: the requests each provider documents, which answers are worth another try,
 * the back-off between tries, and the status page's read-before-create. Async but without I/O of its own: the
 * HTTP request, the wait and the record of a retry come in as ports (the step gives the real ones, tests theirs).
 */
import { formatDuration, parseDuration } from '../duration.js';
import { neutralize } from '../sanitize.js';
import { maskedUrl, secretValue, describeSecret, type NotifyChannel, type SecretRef, type StatuspageStatus } from './config.js';
import type { MessageFacts, RenderedMessage } from './templates.js';

export interface NotifyHttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type NotifyHttpAnswer =
  | { ok: true; status: number; body: string; retryAfter: string | null }
  | { ok: false; kind: 'timeout' | 'refused' | 'reset' | 'dns' | 'aborted' | 'error'; error: string };

export interface NotifyPorts {
  request(req: NotifyHttpRequest): Promise<NotifyHttpAnswer>;
  /** Wait; resolves early when the run is stopped (then `stopped()` is true). */
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
  /** A try failed and another follows after `waitMs` (recorded, shown). */
  retrying(info: { attempt: number; status: number | null; reason: string; waitMs: number }): Promise<void>;
  now(): number;
}

/** What one delivery is: the message, the channel's secrets resolved, and for a status page the status to set. */
export interface Delivery {
  channel: NotifyChannel;
  message: RenderedMessage;
  facts: MessageFacts;
  status: StatuspageStatus | null;
  /** The delivery's own key (session, step, channel): the generic webhook's Idempotency-Key. */
  key: string;
  env: Readonly<Record<string, string | undefined>>;
}

export type DeliveryResult =
  | { ok: true; status: number; messageId: string | null; attempts: number; detail: string }
  /** `uncertain`: the last try got no answer (a timeout, a reset), so a chat message may have been posted all the same. */
  | { ok: false; status: number | null; attempts: number; reason: string; answer?: string; uncertain?: true }
  | { ok: false; stopped: true; attempts: number };

/** The longest wait a `Retry-After` gets (a longer one is waited this long, then tried). */
export const MAX_RETRY_WAIT_MS = 120_000;
/** The first back-off; it doubles with each try, up to 30 s. */
export const BASE_BACKOFF_MS = 1_000;
/** The most of a provider's answer kept in a failure's reason. */
export const ANSWER_LIMIT = 300;

/** A provider's answer as it may be shown: control sequences neutralised, on one line, cut. */
export function answerExcerpt(body: string): string {
  const one = neutralize(body).replace(/\s+/g, ' ').trim();
  return one.length > ANSWER_LIMIT ? `${one.slice(0, ANSWER_LIMIT)}…` : one;
}

/** Whether an HTTP status is worth another try: a timeout, throttling (429, Statuspage's 420) or a server error. */
export function transientStatus(status: number): boolean {
  return status === 408 || status === 420 || status === 425 || status === 429 || status >= 500;
}

/** `Retry-After` (seconds or an HTTP date) in ms, or null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** The wait before try `attempt + 1`: the provider's `Retry-After` when it gave one, else 1 s, 2 s, 4 s … up to 30 s. */
export function backoffMs(attempt: number, retryAfter: number | null): number {
  if (retryAfter !== null) return Math.min(retryAfter, MAX_RETRY_WAIT_MS);
  return Math.min(BASE_BACKOFF_MS * 2 ** (attempt - 1), 30_000);
}

/** Slack's mrkdwn needs &, < and > escaped (they start links and mentions). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Slack's mrkdwn of `text`: escaped, and each of the message's link URLs still in it (an edit may have removed one)
 * written as Slack's `<url|words>` link.
 */
export function slackText(text: string, links: RenderedMessage['links']): string {
  let out = slackEscape(text);
  for (const l of links ?? []) {
    const url = slackEscape(l.url);
    // The words may hold neither the link's end nor its separator.
    const words = slackEscape(l.label.replace(/[|>]/g, ' '));
    out = out.split(url).join(`<${url}|${words}>`);
  }
  return out;
}

/** The Slack payload: `text` (the notification fallback, what Mattermost shows) and the same words as `blocks`. */
export function slackPayload(m: RenderedMessage): { text: string; blocks: unknown[] } {
  return {
    text: slackText(`${m.title}\n${m.text}`, m.links),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: m.title.slice(0, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: slackText(m.text, m.links).slice(0, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `release-cockpit · ${m.name}` }] },
    ],
  };
}

/** The fields a generic webhook's template may name as ${field}. */
function webhookFields(d: Delivery): Record<string, string> {
  return {
    text: d.message.text,
    title: d.message.title,
    message: d.message.name,
    version: d.facts.version ?? '',
    environment: d.facts.environment ?? '',
    operator: d.facts.operator ?? '',
    status: d.status ?? '',
    key: d.key,
    channel: d.channel.name,
    /** Where the session's publish step published the release: a plain URL ('' without one). */
    published_url: d.facts.published?.url ?? '',
  };
}

/** The generic webhook's body: its template with every ${field} in every string filled, or a default object. */
export function webhookPayload(d: Delivery, template: unknown): unknown {
  const fields = webhookFields(d);
  if (template === undefined) {
    const { channel: _c, published_url, ...rest } = fields;
    return published_url ? { ...rest, published_url } : rest;
  }
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/\$\{(\w+)\}/g, (m: string, k: string) => fields[k] ?? m);
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(template);
}

/** The channel's endpoint in words, its secrets masked: what a description and the log may say. */
export function endpointWords(c: NotifyChannel): string {
  switch (c.type) {
    case 'slack':
      return `POST ${maskedUrl(c.url)}`;
    case 'webhook':
      return `${c.method} ${maskedUrl(c.url)}`;
    case 'statuspage':
      return `${c.url}/pages/${c.page} (Authorization: OAuth ${describeSecret(c.apiKey)})`;
  }
}

/** The environment variables a channel needs that are not set: nothing is sent then. */
export function missingSecrets(c: NotifyChannel, env: Readonly<Record<string, string | undefined>>): string[] {
  const refs: SecretRef[] =
    c.type === 'statuspage'
      ? [c.apiKey]
      : [c.url, ...(c.type === 'webhook' ? Object.values(c.headers).filter((v): v is SecretRef => typeof v !== 'string') : [])];
  return refs.flatMap((r) => ('env' in r && !secretValue(r, env) ? [`$${r.env}`] : []));
}

type Tried =
  | { ok: true; status: number; body: string }
  | { ok: false; status: number | null; reason: string; answer?: string; stopped?: true; noAnswer?: true };
/** A create whose answer was lost (a timeout, a reset, a 5xx): it may have been made, so the next try reads first. */
type Reread = { ok: false; reread: true; attempt: number; status: number | null; reason: string; waitMs: number };

/**
 * One request, tried until it is answered with a final status or the channel's attempts run out. A `create` is not
 * sent again after an answer that may hide its success (only after 429/420, which say it was refused): the
 * caller reads again first.
 */
async function withRetries(d: Delivery, ports: NotifyPorts, req: NotifyHttpRequest, tries: { count: number }): Promise<Tried>;
async function withRetries(
  d: Delivery,
  ports: NotifyPorts,
  req: NotifyHttpRequest,
  tries: { count: number },
  create: true,
): Promise<Tried | Reread>;
async function withRetries(
  d: Delivery,
  ports: NotifyPorts,
  req: NotifyHttpRequest,
  tries: { count: number },
  create = false,
): Promise<Tried | Reread> {
  // `n` counts this request's tries (the channel's attempts bound them); `tries.count` the delivery's, all requests together.
  for (let n = 1; ; n++) {
    const a = await ports.request(req);
    if (ports.stopped() || (!a.ok && a.kind === 'aborted')) return { ok: false, status: null, reason: 'stopped', stopped: true };
    if (a.ok && a.status >= 200 && a.status < 300) return { ok: true, status: a.status, body: a.body };
    const transient = a.ok ? transientStatus(a.status) : true;
    const reason = a.ok ? `HTTP ${a.status}${a.body.trim() ? `: ${answerExcerpt(a.body)}` : ''}` : a.error;
    const status = a.ok ? a.status : null;
    if (!transient || n >= d.channel.attempts) {
      const tried = n > 1 ? ` (after ${n} attempts)` : '';
      return {
        ok: false,
        status,
        reason: `${transient ? '' : 'refused: '}${reason}${tried}`,
        ...(a.ok && a.body.trim() ? { answer: answerExcerpt(a.body) } : {}),
        ...(!a.ok && (a.kind === 'timeout' || a.kind === 'reset' || a.kind === 'error') ? { noAnswer: true as const } : {}),
      };
    }
    const wait = backoffMs(n, a.ok ? retryAfterMs(a.retryAfter, ports.now()) : null);
    if (create && !(a.ok && (a.status === 429 || a.status === 420)))
      return { ok: false, reread: true, attempt: tries.count, status, reason, waitMs: wait };
    await ports.retrying({ attempt: tries.count, status, reason, waitMs: wait });
    tries.count++;
    await ports.sleep(wait);
    if (ports.stopped()) return { ok: false, status: null, reason: 'stopped', stopped: true };
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', accept: 'application/json, text/plain, */*' };

/** Delivers one message to one channel, with retries; the status page reads before it creates. */
export async function deliver(d: Delivery, ports: NotifyPorts): Promise<DeliveryResult> {
  const tries = { count: 1 };
  const c = d.channel;
  const missing = missingSecrets(c, d.env);
  if (missing.length)
    return {
      ok: false,
      status: null,
      attempts: 0,
      reason: `channel '${c.name}' reads ${missing.join(', ')}, which is not set: nothing was sent`,
    };
  const done = (r: Tried, messageId: (body: string) => string | null, detail: string): DeliveryResult => {
    if (!r.ok) {
      if (r.stopped) return { ok: false, stopped: true, attempts: tries.count };
      const { noAnswer, stopped: _s, ...failed } = r;
      // A status page is read before it is written, so only a chat or webhook post can be there without our knowing.
      return { ...failed, attempts: tries.count, ...(noAnswer && c.type !== 'statuspage' ? { uncertain: true as const } : {}) };
    }
    return { ok: true, status: r.status, messageId: messageId(r.body), attempts: tries.count, detail };
  };
  switch (c.type) {
    case 'slack': {
      const r = await withRetries(
        d,
        ports,
        {
          method: 'POST',
          url: secretValue(c.url, d.env)!,
          headers: JSON_HEADERS,
          body: JSON.stringify(slackPayload(d.message)),
          timeoutMs: c.timeoutMs,
        },
        tries,
      );
      // Slack answers `ok` and no id; Mattermost the same.
      return done(r, () => null, 'posted');
    }
    case 'webhook': {
      const headers: Record<string, string> = { ...JSON_HEADERS, 'idempotency-key': d.key };
      for (const [k, v] of Object.entries(c.headers)) headers[k.toLowerCase()] = typeof v === 'string' ? v : (secretValue(v, d.env) ?? '');
      const r = await withRetries(
        d,
        ports,
        {
          method: c.method,
          url: secretValue(c.url, d.env)!,
          headers,
          body: JSON.stringify(webhookPayload(d, c.template)),
          timeoutMs: c.timeoutMs,
        },
        tries,
      );
      return done(r, jsonId, 'posted');
    }
    case 'statuspage':
      return statuspage(d, c, ports, tries, done);
  }
}

function jsonId(body: string): string | null {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const id = v?.id ?? v?.message_id ?? v?.ts;
    return typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 100) : null;
  } catch {
    return null;
  }
}

interface Incident {
  id: string;
  name: string;
  status: string;
  scheduled_for?: string | null;
  metadata?: { cockpit?: { release?: string } } | null;
}

/** The tag a status page incident carries (its metadata), so that a retry or a later session finds it instead of creating another. */
export function releaseTag(f: MessageFacts): string {
  return `${f.version ?? '-'}@${f.environment ?? '-'}`;
}

/** The incident's name: the same for every message of one release and environment, so that each finds it. */
export function incidentName(f: MessageFacts): string {
  const version = f.rolledBack?.to ?? f.version;
  const rel = version ? (/^\d/.test(version) ? `v${version}` : version) : 'the release';
  // A rollback's version is where it goes back to: its own incident (when none of the environment is open) says so.
  if (f.rollingBack) return `Rollback${f.environment ? ` of ${f.environment}` : ''}${version ? ` to ${rel}` : ''}`;
  return `Deployment of ${rel}${f.environment ? ` to ${f.environment}` : ''}`;
}

/**
 * The incident a message updates: the one of the same release and environment (the cockpit's tag, else its name).
 * A rollback does not know the version it withdraws, so it takes the environment's open incident: the deploy's.
 */
function incidentOf(incidents: Incident[], f: MessageFacts): Incident | null {
  const tag = releaseTag(f);
  const name = incidentName(f);
  const same = incidents.find((i) => i.metadata?.cockpit?.release === tag || i.name === name);
  if (same || !f.rollingBack || !f.environment) return same ?? null;
  const env = f.environment;
  return incidents.find((i) => i.metadata?.cockpit?.release?.endsWith(`@${env}`) || i.name.endsWith(` to ${env}`)) ?? null;
}

/** When the maintenance window starts and ends (ISO), from the facts; or why it cannot be known. */
export function windowTimes(f: MessageFacts, now: number): { from: string; until: string } | { error: string } {
  const startText = f.window?.start;
  const start = startText ? Date.parse(startText) : now;
  if (Number.isNaN(start)) return { error: `window_start '${startText}' is not a date and time (e.g. 2026-12-08T22:00Z)` };
  const lengthMs = f.window?.length ? parseDuration(f.window.length) : 3_600_000;
  if (!lengthMs) return { error: `window_length '${f.window?.length}' is not a duration (e.g. 2h)` };
  return { from: new Date(start).toISOString(), until: new Date(start + lengthMs).toISOString() };
}

/** What the status page step does, in words (a dry run, the screen): the requests without their answers. */
export function statuspagePlan(
  c: Extract<NotifyChannel, { type: 'statuspage' }>,
  status: StatuspageStatus | null,
  f: MessageFacts,
): string {
  const base = `${c.url}/pages/${c.page}`;
  const comps = c.components.length ? `components ${c.components.join(', ')}` : 'no components';
  const name = `'${incidentName(f)}'`;
  switch (status) {
    case 'under_maintenance':
      return `GET ${base}/incidents/unresolved and /incidents/scheduled; PATCH the maintenance ${name} to in_progress, or POST ${base}/incidents to start one; ${comps} → under_maintenance`;
    case 'degraded_performance':
      return `GET ${base}/incidents/unresolved and /incidents/scheduled; PATCH the incident ${name}, or POST ${base}/incidents (identified); ${comps} → degraded_performance`;
    case 'operational':
      return `GET ${base}/incidents/unresolved and /incidents/scheduled; PATCH ${name} to completed/resolved, or PATCH ${base}/components/<id>; ${comps} → operational`;
    case null: {
      const w = windowTimes(f, Date.parse('2000-01-01T00:00:00Z'));
      const when = 'error' in w ? w.error : f.window?.start ? `${w.from} to ${w.until}` : '(needs window_start)';
      return `GET ${base}/incidents/scheduled; POST ${base}/incidents: maintenance ${name} scheduled ${when}, ${comps}`;
    }
  }
}

/** The status page's read and write, again from the read when a create's answer was lost. */
async function statuspage(
  d: Delivery,
  c: Extract<NotifyChannel, { type: 'statuspage' }>,
  ports: NotifyPorts,
  tries: { count: number },
  done: (r: Tried, id: (b: string) => string | null, detail: string) => DeliveryResult,
): Promise<DeliveryResult> {
  for (let rereads = 1; ; rereads++) {
    const r = await statuspageOnce(d, c, ports, tries, done);
    if (!('reread' in r)) return r;
    if (rereads >= d.channel.attempts)
      return { ok: false, status: r.status, attempts: tries.count, reason: `${r.reason} (after ${rereads} attempts to create it)` };
    const { reread: _r, ok: _o, ...info } = r;
    await ports.retrying({ ...info, reason: `${r.reason}; it may have been created, so the page is read again first` });
    tries.count++;
    await ports.sleep(r.waitMs);
    if (ports.stopped()) return { ok: false, stopped: true, attempts: tries.count };
  }
}

async function statuspageOnce(
  d: Delivery,
  c: Extract<NotifyChannel, { type: 'statuspage' }>,
  ports: NotifyPorts,
  tries: { count: number },
  done: (r: Tried, id: (b: string) => string | null, detail: string) => DeliveryResult,
): Promise<DeliveryResult | Reread> {
  const base = `${c.url}/pages/${encodeURIComponent(c.page)}`;
  const headers = { ...JSON_HEADERS, authorization: `OAuth ${secretValue(c.apiKey, d.env)!}` };
  const request = (method: NotifyHttpRequest['method'], path: string, body?: unknown): NotifyHttpRequest => ({
    method,
    url: `${base}${path}`,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    timeoutMs: c.timeoutMs,
  });
  const call = (method: NotifyHttpRequest['method'], path: string, body?: unknown) =>
    withRetries(d, ports, request(method, path, body), tries);
  const create = (body: unknown) => withRetries(d, ports, request('POST', '/incidents', body), tries, true);
  const tag = releaseTag(d.facts);
  const name = incidentName(d.facts);
  const body = d.message.text;
  const components = (status: string) => Object.fromEntries(c.components.map((id) => [id, status]));

  // Read before create: a retry after a lost answer, or the next session of the same release, finds the incident.
  let found: Incident | null = null;
  for (const list of d.status === null ? ['scheduled'] : ['unresolved', 'scheduled']) {
    const r = await call('GET', `/incidents/${list}`);
    if (!r.ok) return done(r, () => null, '');
    let incidents: Incident[] = [];
    try {
      const parsed: unknown = JSON.parse(r.body);
      if (Array.isArray(parsed)) incidents = parsed as Incident[];
    } catch {
      return {
        ok: false,
        status: r.status,
        attempts: tries.count,
        reason: `the status page's incident list is not JSON: ${answerExcerpt(r.body)}`,
      };
    }
    found = incidentOf(incidents, d.facts);
    if (found) break;
  }
  const idOf = (b: string) => jsonId(b);
  const maintenance = !!found?.scheduled_for;
  switch (d.status) {
    case null: {
      const w = windowTimes(d.facts, ports.now());
      if ('error' in w) return { ok: false, status: null, attempts: tries.count, reason: `cannot schedule the maintenance: ${w.error}` };
      const incident = { name, body, scheduled_for: w.from, scheduled_until: w.until, component_ids: c.components };
      if (found) return done(await call('PATCH', `/incidents/${found.id}`, { incident }), idOf, `maintenance ${found.id} rescheduled`);
      const r = await create({
        incident: { ...incident, status: 'scheduled', scheduled_remind_prior: true, metadata: { cockpit: { release: tag } } },
      });
      return 'reread' in r ? r : done(r, idOf, 'maintenance scheduled');
    }
    case 'under_maintenance':
    case 'degraded_performance': {
      const status = d.status === 'under_maintenance' || maintenance ? 'in_progress' : 'identified';
      if (found)
        return done(
          await call('PATCH', `/incidents/${found.id}`, {
            incident: { status, body, components: components(d.status), component_ids: c.components },
          }),
          idOf,
          `incident ${found.id} → ${status}`,
        );
      const w = windowTimes({ ...d.facts, window: { start: null, length: d.facts.window?.length ?? null } }, ports.now());
      const times = d.status === 'under_maintenance' && !('error' in w) ? { scheduled_for: w.from, scheduled_until: w.until } : {};
      const r = await create({
        incident: {
          name,
          status,
          body,
          ...times,
          components: components(d.status),
          component_ids: c.components,
          metadata: { cockpit: { release: tag } },
        },
      });
      return 'reread' in r ? r : done(r, idOf, `incident created (${status})`);
    }
    case 'operational': {
      if (found) {
        const status = maintenance ? 'completed' : 'resolved';
        return done(
          await call('PATCH', `/incidents/${found.id}`, {
            incident: { status, body, components: components('operational'), component_ids: c.components },
          }),
          idOf,
          `incident ${found.id} → ${status}`,
        );
      }
      let last: DeliveryResult = { ok: true, status: 200, messageId: null, attempts: tries.count, detail: 'no components to set' };
      for (const id of c.components) {
        last = done(
          await call('PATCH', `/components/${encodeURIComponent(id)}`, { component: { status: 'operational' } }),
          idOf,
          'components → operational',
        );
        if (!last.ok) return last;
      }
      return last;
    }
  }
}

/** How long the retries of a channel may take at most (for the words of a description). */
export function retryWords(c: NotifyChannel): string {
  return `timeout ${formatDuration(c.timeoutMs)}, ${c.attempts} attempt${c.attempts > 1 ? 's' : ''}`;
}
