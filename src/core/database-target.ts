/**
 * Which application database a command acts on: the one place that decides it (cockpit migrate …, cockpit db …, and
 * through them the migrate, backup and restore steps), pure so it is tested alone.
 *
 * For environment E (`--env E`, a step's `env:`):
 *   --database-url  >  database.environments.E.url  >  (no environment given) database.url  >  DATABASE_URL
 * An environment the config's `database.environments` does not list is refused, naming those it lists, rather than
 * acting on another environment's database. A config without `environments` keeps the one database of before
 * (database.url, else DATABASE_URL) for every environment.
 *
 * A URL in the config may be `{env: NAME}`: read from that environment variable (unset: no URL, and the message that
 * asks for one names the variable; an unset scratchUrl is refused).
 * The URLs themselves are never part of a message: only where they come from.
 */
import { ENVIRONMENT_NAME } from './environment.js';
import { UsageError } from './errors.js';

/** A URL as the config gives it: literal, or `{env: NAME}`. */
export type UrlRef = string | { env: string };

/** The `database:` section's part that names databases. */
export interface DatabaseUrls {
  url?: UrlRef;
  scratchUrl?: UrlRef;
  environments?: Record<string, { url: UrlRef; scratchUrl?: UrlRef }>;
}

export interface DatabaseQuery {
  /** `--database-url`, when given. */
  flagUrl?: string;
  /** `--scratch-url`, when given (verify only). */
  flagScratchUrl?: string;
  /** `--env`, when given. */
  environment?: string;
  settings?: DatabaseUrls;
  /** The config file's name, for the messages. */
  configFile: string;
  /** The process environment (DATABASE_URL, and the `{env: NAME}` references). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface DatabaseChoice {
  /** The URL, or undefined when none is given anywhere (`missing` then says where to give one). */
  url: string | undefined;
  /** Where it came from, for messages: `--database-url`, `database.environments.staging.url in cockpit.config.yaml`, … */
  source: string;
  /** The environment it was chosen for, when one was named. */
  environment?: string;
  /** Where a database could be given, for the "no database" message. */
  missing: string;
}

/** An environment the config's `database.environments` does not list, or an unset scratchUrl `{env: NAME}`: bad input, exit 2. */
export class DatabaseEnvironmentError extends UsageError {}

function checkName(environment: string): void {
  if (!ENVIRONMENT_NAME.test(environment))
    throw new DatabaseEnvironmentError(
      `--env '${environment}': expected an environment name such as staging or production (letters, digits, - and _)`,
    );
}

/** The entry of `environment` in database.environments; null when the config has no environments (one database). */
function environmentEntry(q: DatabaseQuery): { url: UrlRef; scratchUrl?: UrlRef } | null {
  const envs = q.settings?.environments;
  if (q.environment === undefined || !envs) return null;
  if (Object.hasOwn(envs, q.environment)) return envs[q.environment];
  const known = Object.keys(envs);
  throw new DatabaseEnvironmentError(
    `no database for environment '${q.environment}': database.environments in ${q.configFile} ` +
      (known.length ? `names only ${known.map((k) => `'${k}'`).join(', ')}` : 'names none') +
      ` (add ${q.environment}: {url: …} there, or name another environment)`,
  );
}

/** A config URL's value: itself, or its environment variable's (undefined when unset, with the words for that). */
function read(ref: UrlRef, where: string, q: DatabaseQuery): { url: string | undefined; source: string; unset?: string } {
  if (typeof ref === 'string') return { url: ref, source: `${where} in ${q.configFile}` };
  const v = q.env[ref.env];
  const source = `${ref.env} (${where} in ${q.configFile})`;
  if (!v) return { url: undefined, source, unset: `${where} in ${q.configFile} reads ${ref.env} from the environment, which is not set` };
  return { url: v, source };
}

/** A config URL that must be there: its value, or refused naming the unset variable. */
function readSet(ref: UrlRef, where: string, q: DatabaseQuery): { url: string; source: string } {
  const r = read(ref, where, q);
  if (r.url === undefined) throw new DatabaseEnvironmentError(r.unset ?? `${where}: no value`);
  return { url: r.url, source: r.source };
}

/** The application database for `q` (see the top of this file). Throws DatabaseEnvironmentError for an unknown environment. */
export function resolveDatabase(q: DatabaseQuery): DatabaseChoice {
  if (q.environment !== undefined) checkName(q.environment);
  const entry = environmentEntry(q);
  const env = q.environment !== undefined ? { environment: q.environment } : {};
  const envs = q.settings?.environments ? Object.keys(q.settings.environments) : [];
  const missing =
    (q.environment === undefined && envs.length ? `pass --env (${envs.join(', ')}), ` : '') +
    'pass --database-url postgres://…, ' +
    (q.environment !== undefined && !q.settings?.environments
      ? `set database.environments.${q.environment}.url or database.url in ${q.configFile}, or DATABASE_URL`
      : `set database.url in ${q.configFile}, or DATABASE_URL`);
  if (q.flagUrl !== undefined) return { url: q.flagUrl, source: '--database-url', missing, ...env };
  // A `{env: NAME}` that is unset gives no URL (a command that needs none, lint or check, still runs): the command
  // that needs one says which variable to set.
  const configured = (r: ReturnType<typeof read>): DatabaseChoice => ({
    url: r.url,
    source: r.source,
    missing: r.unset ?? missing,
    ...env,
  });
  if (entry) return configured(read(entry.url, `database.environments.${q.environment}.url`, q));
  if (q.settings?.url !== undefined) return configured(read(q.settings.url, 'database.url', q));
  return { url: q.env.DATABASE_URL || undefined, source: 'DATABASE_URL', missing, ...env };
}

/**
 * The empty database `migrate verify` works in, when one is given: --scratch-url > the environment's scratchUrl >
 * database.scratchUrl. Undefined: verify creates one on the server of the application database.
 */
export function resolveScratchDatabase(q: DatabaseQuery): { url: string; source: string } | undefined {
  if (q.environment !== undefined) checkName(q.environment);
  const entry = environmentEntry(q);
  if (q.flagScratchUrl !== undefined) return { url: q.flagScratchUrl, source: '--scratch-url' };
  if (entry?.scratchUrl !== undefined) return readSet(entry.scratchUrl, `database.environments.${q.environment}.scratchUrl`, q);
  if (q.settings?.scratchUrl !== undefined) return readSet(q.settings.scratchUrl, 'database.scratchUrl', q);
  return undefined;
}

/** `host:port/name` of a connection URL (no user, no password): what a backup says it was taken of, what a restore is held to. */
export function databaseIdentity(url: string): string {
  const u = new URL(url);
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return `${host}:${u.port || '5432'}${decodeURIComponent(u.pathname) || '/'}`.replace(/\/$/, '/postgres');
}
