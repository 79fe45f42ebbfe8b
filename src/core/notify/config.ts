/**
 * The `notify:` section of cockpit.config.yaml: named channels the `notify` step sends to (src/steps/notify.ts).
 *
 * - `type: slack`: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): `text` plus `blocks`.
 * - `type: webhook`: any JSON webhook; `template:` is the body, its strings filled with the message's fields.
 * - `type: statuspage`: the Atlassian Statuspage manage API (components, incidents and maintenances).
 *
 * Webhook URLs and API keys are secrets (`{env: NAME}` or a literal): they are sent and never recorded or shown
 * (`notifySecretValues` is registered with the store's redaction; `maskedUrl` is what a description shows).
 */
import { z } from 'zod';
import { parseDuration, timerDurationProblem } from '../duration.js';
import { describeSecret, literalSecret, secretValue } from '../watch/secrets.js';
import type { SecretRef } from '../watch/types.js';

export type { SecretRef };

export const STATUSPAGE_STATUSES = ['under_maintenance', 'degraded_performance', 'operational'] as const;
export type StatuspageStatus = (typeof STATUSPAGE_STATUSES)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The `notify:` input schema, built on first use: start-up does not pay for a section most configurations lack. */
function makeSchema() {
  const envRef = z.strictObject({ env: z.string().regex(ENV_NAME, 'expected an environment variable name') });
  const secretInput = z.union([z.string().min(1), envRef], { error: 'expected a value, or {env: NAME} to read it from the environment' });
  const urlInput = z.union(
    [
      z
        .string()
        .min(1)
        .refine((u) => /^https?:\/\/[^/\s]+/.test(u), { message: 'expected an http(s) URL' }),
      envRef,
    ],
    { error: 'expected an http(s) URL, or {env: NAME} to read it from the environment' },
  );
  const duration = z.union([z.string(), z.number()]).refine((v) => parseDuration(v) !== null && timerDurationProblem(v) === null, {
    message: 'expected a duration such as 10s or 1m',
  });
  /** How hard a channel tries: each request's timeout, and how many attempts a transient failure gets. */
  const delivery = {
    timeout: duration.optional(),
    attempts: z.number().int().min(1).max(10).optional(),
  };

  const jsonValue: z.ZodType<unknown> = z.lazy(() =>
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
  );

  const channelSchema = z.discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('slack'), url: urlInput, ...delivery }),
      z.strictObject({
        type: z.literal('webhook'),
        url: urlInput,
        method: z.enum(['POST', 'PUT']).optional(),
        headers: z.record(z.string().regex(HEADER_NAME, 'expected an HTTP header name'), secretInput).optional(),
        /** The JSON body: strings may hold ${text}, ${title}, ${message}, ${version}, ${environment}, ${operator}, ${status}, ${key}. */
        template: jsonValue.optional(),
        ...delivery,
      }),
      z.strictObject({
        type: z.literal('statuspage'),
        /** The manage API's base (default https://api.statuspage.io/v1). */
        url: z
          .string()
          .refine((u) => /^https?:\/\/[^/\s]+/.test(u), { message: 'expected an http(s) URL' })
          .optional(),
        page: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a Statuspage page id'),
        apiKey: secretInput,
        /** The component ids the deployment affects: set to the step's status. */
        components: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a Statuspage component id')).default([]),
        ...delivery,
      }),
    ],
    { error: 'expected type: slack, webhook or statuspage' },
  );

  return z.record(z.string().regex(CHANNEL_NAME, 'expected a channel name (letters, digits, - and _)'), channelSchema);
}

let built: ReturnType<typeof makeSchema> | undefined;
/** `notify:` as written: channel name → channel. */
export function notifyConfigSchema(): ReturnType<typeof makeSchema> {
  return (built ??= makeSchema());
}
export type NotifyConfigInput = z.infer<ReturnType<typeof makeSchema>>;

interface ChannelBase {
  name: string;
  timeoutMs: number;
  attempts: number;
}
export type NotifyChannel =
  | (ChannelBase & { type: 'slack'; url: SecretRef })
  | (ChannelBase & {
      type: 'webhook';
      url: SecretRef;
      method: 'POST' | 'PUT';
      headers: Record<string, string | SecretRef>;
      template: unknown;
    })
  | (ChannelBase & { type: 'statuspage'; url: string; page: string; apiKey: SecretRef; components: string[] });

/** The resolved channels, by name. */
export type NotifyChannels = Record<string, NotifyChannel>;

/** What the `notify` step is configured with: the channels, and who runs the cockpit (a dry run's messages name them). */
export interface NotifySettings {
  channels: NotifyChannels;
  operator?: string;
}

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
export const DEFAULT_NOTIFY_ATTEMPTS = 4;
export const STATUSPAGE_API = 'https://api.statuspage.io/v1';

const secret = (v: string | { env: string }): SecretRef => (typeof v === 'string' ? literalSecret(v) : { env: v.env });

/** The channels with their defaults, literal secrets wrapped so that they print as `[secret]`. */
export function resolveNotifyConfig(input: NotifyConfigInput): NotifyChannels {
  const out: NotifyChannels = {};
  for (const [name, c] of Object.entries(input)) {
    const base = {
      name,
      timeoutMs: c.timeout !== undefined ? parseDuration(c.timeout)! : DEFAULT_NOTIFY_TIMEOUT_MS,
      attempts: c.attempts ?? DEFAULT_NOTIFY_ATTEMPTS,
    };
    switch (c.type) {
      case 'slack':
        out[name] = { ...base, type: 'slack', url: secret(c.url) };
        break;
      case 'webhook':
        out[name] = {
          ...base,
          type: 'webhook',
          url: secret(c.url),
          method: c.method ?? 'POST',
          headers: Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : secret(v)])),
          template: c.template,
        };
        break;
      case 'statuspage':
        out[name] = {
          ...base,
          type: 'statuspage',
          url: (c.url ?? STATUSPAGE_API).replace(/\/+$/, ''),
          page: c.page,
          apiKey: secret(c.apiKey),
          components: c.components,
        };
        break;
    }
  }
  return out;
}

function refs(c: NotifyChannel): SecretRef[] {
  switch (c.type) {
    case 'slack':
      return [c.url];
    case 'webhook':
      return [c.url, ...Object.values(c.headers).filter((v): v is SecretRef => typeof v !== 'string')];
    case 'statuspage':
      return [c.apiKey];
  }
}

/**
 * Every secret value of the channels (environment references resolved in `env`), to register for redaction: a
 * webhook URL whole and its path (the token is the path: an error that quotes only the path must not show it).
 */
export function notifySecretValues(channels: NotifyChannels, env: Readonly<Record<string, string | undefined>>): string[] {
  const values: string[] = [];
  for (const c of Object.values(channels)) {
    for (const r of refs(c)) {
      const v = secretValue(r, env);
      if (!v) continue;
      values.push(v);
      if (c.type !== 'statuspage' && (r === c.url || ('env' in r && 'env' in c.url && r.env === c.url.env))) {
        try {
          const u = new URL(v);
          const tail = u.pathname + u.search;
          if (tail.length >= 8) values.push(tail);
        } catch {
          // Not a URL: the value itself is registered.
        }
      }
    }
  }
  return [...new Set(values)];
}

/** The names of the environment variables the channels read secrets from. */
export function notifySecretEnvNames(channels: NotifyChannels): string[] {
  return [...new Set(Object.values(channels).flatMap((c) => refs(c).flatMap((r) => ('env' in r ? [r.env] : []))))];
}

/** A webhook URL as it may be shown: `$SLACK_WEBHOOK_URL`, or a literal's scheme and host with the rest masked. */
export function maskedUrl(ref: SecretRef): string {
  if ('env' in ref) return describeSecret(ref);
  try {
    const u = new URL(ref.value);
    return `${u.protocol}//${u.host}/[secret]`;
  } catch {
    return '[secret]';
  }
}

export { secretValue, describeSecret };

/** The settings the `notify` step gets from a config's `notify:` (undefined without one). */
export function notifySettings(input: NotifyConfigInput | undefined, operator?: string): NotifySettings | undefined {
  if (!input) return undefined;
  return { channels: resolveNotifyConfig(input), ...(operator ? { operator } : {}) };
}
