/**
 * The cockpit's one error path. Every error the cockpit raises on purpose extends `CockpitError` and carries the
 * process exit code it stands for; `src/cli/exit.ts` turns any thrown value into that code and one line on stderr,
 * in one place. Anything else that escapes is an internal error (exit 1, with its stack).
 *
 * Exit codes (README, "Exit codes"): 0 done · 1 a step failed, a check failed, or a service could not be used ·
 * 2 bad usage or input (flags, checklist, config, files) · 3 stopped by the operator.
 */
export type ExitCode = 0 | 1 | 2 | 3;

export const EXIT = { done: 0, failed: 1, usage: 2, stopped: 3 } as const satisfies Record<string, ExitCode>;

export class CockpitError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from the user (flags, files, config): exit 2 with the message. */
export class UsageError extends CockpitError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Something the cockpit needed could not be done or used (a service, the store, a command): exit 1. */
export class FailedError extends CockpitError {
  constructor(message: string) {
    super(message, EXIT.failed);
  }
}

/** The exit code a thrown value stands for: its own for a cockpit error, 1 for anything else. */
export function exitCodeOf(e: unknown): ExitCode {
  return e instanceof CockpitError ? e.exitCode : EXIT.failed;
}

let ignoredSink: ((line: string) => void) | null = null;

/** Where ignored cleanup errors are told (the command line sets it when COCKPIT_DEBUG is set); nowhere by default. */
export function reportIgnoredCleanupErrors(sink: ((line: string) => void) | null): void {
  ignoredSink = sink;
}

/**
 * A failure while cleaning up (closing a connection, releasing a lock, ending a pool) that must not hide the
 * outcome being returned or thrown. `why` says why ignoring it is safe; with COCKPIT_DEBUG set it is printed.
 */
export function ignoreCleanupError(why: string): (e: unknown) => void {
  return (e: unknown) => ignoredSink?.(`ignored while cleaning up (${why}): ${e instanceof Error ? e.message : String(e)}`);
}
