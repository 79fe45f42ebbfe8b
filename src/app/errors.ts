import { UsageError } from '../core/errors.js';

export { UsageError };

/**
 * A run refused before anything is recorded: its parameters do not resolve or its plan does not build. The line
 * commands show `message`; the screens show the problems on one line.
 */
export class RunRefused extends UsageError {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}
