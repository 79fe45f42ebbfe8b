/**
 * Where the audit log is, from `--audit-url`, COCKPIT_AUDIT_URL or `audit.url` in cockpit.config.yaml: a SQLite file
 * (a path, or `sqlite:path`) or a PostgreSQL URL. A value that is neither is refused here, naming where it came from,
 * before anything is opened or created (`mysql://x` would otherwise become a SQLite file called `mysql:/x`).
 */
import { UsageError } from './errors.js';

export type AuditLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The URL with its password replaced, for a message. */
export function hidePassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/** `source` names the setting in words: "audit.url in cockpit.config.yaml", "--audit-url", "COCKPIT_AUDIT_URL". */
export function parseAuditUrl(url: string, source: string): AuditLocation {
  const bad = (why: string) => new UsageError(`${source} '${hidePassword(url)}' ${why}`);
  if (!url.trim()) throw bad('is empty: give a SQLite file path or postgres://user@host:port/database');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!url.startsWith(`${scheme}://`)) throw bad('is not a PostgreSQL URL: expected postgres://user@host:port/database');
    // No host (postgres:///db) is libpq's local socket, and allowed; a URL that does not parse is not.
    if (!URL.canParse(url)) throw bad('is not a valid PostgreSQL URL: expected postgres://user@host:port/database');
    return { kind: 'postgres', url };
  }
  if (scheme === 'sqlite') {
    const file = url.replace(/^sqlite:(\/\/)?/i, '');
    if (!file) throw bad('names no file: expected sqlite:path/to/audit.db');
    return { kind: 'sqlite', path: file };
  }
  // Any other scheme://… is a store the cockpit does not speak; `C:\…` or `backup:1.db` is a file name.
  if (scheme && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw bad(`has scheme '${scheme}:', which the cockpit cannot store its audit log in: use a SQLite file path or postgres://…`);
  }
  return { kind: 'sqlite', path: url };
}
