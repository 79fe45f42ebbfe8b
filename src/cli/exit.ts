import { CockpitError, reportIgnoredCleanupErrors } from '../core/errors.js';
import { neutralize } from '../core/sanitize.js';

/**
 * The one place where a thrown value becomes an exit code and one line on stderr. A cockpit error carries its own
 * code (core/errors.ts) and its message is the line; anything else is an internal error: exit 1 with its stack.
 * COCKPIT_DEBUG=1 adds the stack of cockpit errors too, and the cleanup errors that were ignored on the way.
 */
export function exitFor(e: unknown, stderr: NodeJS.WritableStream = process.stderr, env: NodeJS.ProcessEnv = process.env): number {
  const debug = !!env.COCKPIT_DEBUG;
  if (e instanceof CockpitError) {
    stderr.write(neutralize(`cockpit: ${e.message}\n`));
    if (debug && e.stack) stderr.write(neutralize(`${e.stack}\n`));
    return e.exitCode;
  }
  stderr.write(neutralize(`cockpit: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
  return 1;
}

/** With COCKPIT_DEBUG set, cleanup errors that were ignored (a connection that would not close …) are printed. */
export function debugCleanupErrors(env: NodeJS.ProcessEnv = process.env, stderr: NodeJS.WritableStream = process.stderr): void {
  if (env.COCKPIT_DEBUG) reportIgnoredCleanupErrors((line) => stderr.write(neutralize(`cockpit: ${line}\n`)));
}
