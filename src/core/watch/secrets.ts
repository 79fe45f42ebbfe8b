/** Secrets of the watch's Prometheus connection: literals that never print, environment references, and the headers they make. */
import type { HeaderValue, LiteralSecret, PrometheusConfig, SecretRef, WatchConfig } from './types.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export function literalSecret(value: string): LiteralSecret {
  const s = { literal: true as const };
  Object.defineProperty(s, 'value', { value, enumerable: false });
  Object.defineProperty(s, 'toJSON', { value: () => '[secret]', enumerable: false });
  Object.defineProperty(s, 'toString', { value: () => '[secret]', enumerable: false });
  Object.defineProperty(s, INSPECT, { value: () => '[secret]', enumerable: false });
  return s as LiteralSecret;
}

export function isSecret(v: HeaderValue | null | undefined): v is SecretRef {
  return typeof v === 'object' && v !== null && ('env' in v || 'literal' in v);
}

/** The value of a secret (undefined when its environment variable is not set). */
export function secretValue(ref: SecretRef, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return 'env' in ref ? env[ref.env] || undefined : ref.value;
}

/** How a secret may be shown: `$PROM_TOKEN` or `[secret]`. */
export function describeSecret(ref: SecretRef): string {
  return 'env' in ref ? `$${ref.env}` : '[secret]';
}

function secretRefs(p: PrometheusConfig): SecretRef[] {
  const refs: SecretRef[] = Object.values(p.headers).filter(isSecret);
  if (p.auth && 'bearer' in p.auth) refs.push(p.auth.bearer);
  if (p.auth && 'basic' in p.auth) refs.push(p.auth.basic.password);
  return refs;
}

/** Every secret value of the watch configuration (env references resolved in `env`): register them for redaction. */
export function secretValues(config: WatchConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const values = secretRefs(config.prometheus).map((r) => secretValue(r, env));
  const auth = config.prometheus.auth;
  if (auth && 'basic' in auth) {
    // The Authorization header as sent, in case the value shows up encoded (an echoed request, a proxy's log).
    const pw = secretValue(auth.basic.password, env);
    if (pw !== undefined) values.push(basicToken(auth.basic.username, pw));
  }
  return [...new Set(values.filter((v): v is string => !!v))];
}

/** The names of the environment variables the watch configuration reads secrets from. */
export function secretEnvNames(config: WatchConfig): string[] {
  return [...new Set(secretRefs(config.prometheus).flatMap((r) => ('env' in r ? [r.env] : [])))];
}

function basicToken(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/**
 * The HTTP headers to send to Prometheus (custom headers, then Authorization from `auth`), with the secrets
 * resolved from `env`. `missing` names the environment variables that are not set: refuse to start.
 */
export function prometheusHeaders(
  config: WatchConfig,
  env: Readonly<Record<string, string | undefined>>,
): { headers: Record<string, string>; missing: string[] } {
  const headers: Record<string, string> = {};
  const missing: string[] = [];
  const get = (v: HeaderValue): string | undefined => {
    if (!isSecret(v)) return v;
    const value = secretValue(v, env);
    if (value === undefined && 'env' in v) missing.push(v.env);
    return value;
  };
  for (const [name, v] of Object.entries(config.prometheus.headers)) {
    const value = get(v);
    if (value !== undefined) headers[name] = value;
  }
  const auth = config.prometheus.auth;
  if (auth && 'bearer' in auth) {
    const token = get(auth.bearer);
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  } else if (auth && 'basic' in auth) {
    const pw = get(auth.basic.password);
    if (pw !== undefined) headers.Authorization = `Basic ${basicToken(auth.basic.username, pw)}`;
  }
  return { headers, missing: [...new Set(missing)] };
}
