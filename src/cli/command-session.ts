/**
 * `cockpit migrate …` commands that change the database are recorded in the audit log as command-line sessions
 * (app/record-command.ts): here their flags become the session's parameters, the database password is found to be
 * redacted, and overrides become notes.
 */
import { appContext } from '../app/context.js';
import { recordCommand } from '../app/record-command.js';
import { describeMigrateLine } from '../core/migrate/describe.js';
import { parseMigrateLine } from '../core/migrate/events.js';
import { resolveDatabase } from '../core/database-target.js';

/**
 * `--json` output (one event per line, each written whole) as it is kept in the log: in words, as the command
 * prints them without `--json`. A line that is not an event is kept as written.
 */
function jsonLinesInWords(text: string): Array<{ stream: 'stdout' | 'stderr'; text: string }> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      const e = parseMigrateLine(l);
      return e ? describeMigrateLine(e) : [{ stream: 'stdout' as const, text: `${l}\n` }];
    });
}

/** The password of a postgres:// URL, to be redacted (decoded as the driver uses it, and as written). */
function urlPasswords(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const p = new URL(url).password;
    return p ? [p, decodeURIComponent(p)] : [];
  } catch {
    return [];
  }
}

/** Commander's flags as a session's parameters: `--database-url`'s password shown as ***, lists joined. */
export function flagParams(flags: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || v === null || (k === 'lock' && v === true)) continue;
    const name = k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (k === 'lock' && v === false) out['no-lock'] = 'true';
    else if (k === 'databaseUrl') out[name] = String(v).replace(/^(\w+:\/\/[^:/@]+:)[^@]*@/, '$1***@');
    else out[name] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/**
 * A `cockpit migrate …` command that changes the database, recorded as a command-line session (see above); the
 * database password (from --database-url, database.environments.<env>.url, database.url or DATABASE_URL) is redacted wherever it shows. An override
 * (`--allow-unsafe`, `--accept-checksum`, `--allow-out-of-order`, `resolve`) is recorded as a note with its reason.
 */
export async function recordedMigrate(
  g: import('./setup.js').GlobalOptions,
  command: string,
  flags: Record<string, unknown> & { databaseUrl?: string; env?: string },
  extra: { args?: Record<string, string>; notes?: string[] },
  run: () => Promise<number>,
): Promise<number> {
  const { Workspace } = await import('./setup.js');
  const { databaseQuery } = await import('./migrate.js');
  const ws = new Workspace(g);
  const notes = [...(extra.notes ?? [])];
  if (typeof flags.allowUnsafe === 'string') notes.push(`lint errors may be overridden (--allow-unsafe): ${flags.allowUnsafe}`);
  if (Array.isArray(flags.acceptChecksum) && flags.acceptChecksum.length)
    notes.push(`edited applied migration(s) accepted (--accept-checksum): ${flags.acceptChecksum.join(', ')}`);
  if (flags.allowOutOfOrder) notes.push('pending migrations older than the newest applied one allowed (--allow-out-of-order)');
  // The database the command acts on (core/database-target.ts): an environment the config does not know (or an
  // unset {env: NAME}) is refused here, before a session is recorded for a command that cannot run.
  const url = resolveDatabase(databaseQuery(ws, flags)).url;
  return recordCommand(
    appContext(() => ws),
    {
      command,
      params: { ...(extra.args ?? {}), ...flagParams(flags) },
      secrets: urlPasswords(url),
      notes,
      ...(flags.json ? { recordStdout: jsonLinesInWords } : {}),
    },
    run,
  );
}
