import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Every command the cockpit prints for the operator to run (resume, replay, note, abort, audit show …) is built here,
 * so that it runs as printed wherever it is pasted: `--repo <its absolute path>` is added when the current directory
 * is not inside that repository (else a pasted resume would open a new, empty audit log where it was pasted), and
 * every argument is shell-quoted.
 */
export interface CockpitInvocation {
  /** How the cockpit is called (`cockpit`; the demo's `npx cockpit`). */
  program?: string;
  /** The repository the command is about (absolute). */
  repoDir: string;
  /** A config file given with --config (absolute), to be given again. */
  config?: string;
  /** An audit log given with --audit-url, to be given again (a SQLite path absolute; a URL without its password). */
  auditUrl?: string;
  /** The directory the command is printed in (default: this process's). */
  cwd?: string;
}

/** One argument for a POSIX shell: as it is when it holds only safe characters, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** Whether `dir` is `root` or inside it (symbolic links resolved: /tmp and /private/tmp are one place). */
export function isInside(dir: string, root: string): boolean {
  const rel = path.relative(real(root), real(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `cockpit [--repo …] [--config …] [--audit-url …] <args>`, quoted, runnable from `where.cwd`. */
export function cockpitCommand(args: string[], where?: CockpitInvocation): string {
  const global: string[] = [];
  if (where && !isInside(where.cwd ?? process.cwd(), where.repoDir)) global.push('--repo', where.repoDir);
  if (where?.config) global.push('--config', where.config);
  if (where?.auditUrl) global.push('--audit-url', where.auditUrl);
  return [where?.program ?? 'cockpit', ...[...global, ...args].map(shellQuote)].join(' ');
}

/** A builder of such commands, as the engine, the reports and the screens are handed one. */
export type CommandLine = (args: string[]) => string;
