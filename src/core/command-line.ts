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
  /** The command is printed outside that repository (cli/setup.ts's isInside): it needs --repo. */
  elsewhere: boolean;
  /** A config file given with --config (absolute), to be given again. */
  config?: string;
  /** An audit log given with --audit-url, to be given again (a SQLite path absolute; a URL without its password). */
  auditUrl?: string;
}

/** One argument for a POSIX shell: as it is when it holds only safe characters, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `cockpit [--repo …] [--config …] [--audit-url …] <args>`, quoted, runnable where it is printed. */
export function cockpitCommand(args: string[], where?: CockpitInvocation): string {
  const global: string[] = [];
  if (where?.elsewhere) global.push('--repo', where.repoDir);
  if (where?.config) global.push('--config', where.config);
  if (where?.auditUrl) global.push('--audit-url', where.auditUrl);
  return [where?.program ?? 'cockpit', ...[...global, ...args].map(shellQuote)].join(' ');
}

/** A builder of such commands, as the engine, the reports and the screens are handed one. */
export type CommandLine = (args: string[]) => string;
