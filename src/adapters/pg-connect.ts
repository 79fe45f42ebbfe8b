/**
 * Connecting to PostgreSQL with an answer instead of a stack: a server that is down, a host that does not resolve
 * or a login that is refused becomes one sentence naming host and port (exit 1: a service could not be used).
 */
import type pg from 'pg';
import { FailedError } from '../core/errors.js';

/** How long a connection attempt may take when the URL does not say (pg's default waits for ever). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** PostgreSQL could not be reached or refused the connection. */
export class PgConnectError extends FailedError {}

/** The client's config with a connection timeout unless one is given. */
export function withConnectTimeout(config: pg.ClientConfig): pg.ClientConfig {
  return config.connectionTimeoutMillis === undefined ? { ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS } : config;
}

/** `client.connect()`, its failure worded: "cannot reach PostgreSQL at host:port: cause". */
export async function connectClient(client: pg.Client): Promise<void> {
  try {
    await client.connect();
  } catch (e) {
    throw explainConnectError(e, client.host, client.port);
  }
}

export function explainConnectError(e: unknown, host: string | undefined, port: number | undefined): PgConnectError {
  const where = `${host && host.includes(':') ? `[${host}]` : (host ?? 'localhost')}:${port ?? 5432}`;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const cause = (typeof err?.message === 'string' && err.message) || code || String(e);
  // A system error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT …) or pg's own timeout: the server was never reached.
  const unreachable = /^E[A-Z]+$/.test(code) || /timeout|terminated unexpectedly/i.test(cause);
  return new PgConnectError(
    unreachable ? `cannot reach PostgreSQL at ${where}: ${cause}` : `PostgreSQL at ${where} refused the connection: ${cause}`,
  );
}
