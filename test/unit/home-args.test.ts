/**
 * `cockpit` with only the global options starts the home screen without building every command's parser
 * (src/cli/main.ts): the options it reads must be commander's, and anything else must go to commander.
 */
import { describe, expect, it } from 'vitest';
import { onlyGlobalOptions } from '../../src/cli/main.js';

describe('the home screen’s command line', () => {
  it('reads the global options as commander does: both spellings, the last one given wins', () => {
    expect(onlyGlobalOptions([])).toEqual({});
    expect(onlyGlobalOptions(['--repo', '../app', '--config=c.yaml', '--audit-url', 'postgres://h/db'])).toEqual({
      repo: '../app',
      config: 'c.yaml',
      auditUrl: 'postgres://h/db',
    });
    expect(onlyGlobalOptions(['--repo', 'a', '--repo=b'])).toEqual({ repo: 'b' });
  });

  it('leaves everything else to commander: a command, a flag, a missing or empty or flag-like value', () => {
    for (const argv of [
      ['run', 'x'],
      ['--version'],
      ['-V'],
      ['--help'],
      ['--repo'],
      ['--repo='],
      ['--repo', '--help'],
      ['--repo', 'a', 'audit'],
      ['--nope'],
    ])
      expect(onlyGlobalOptions(argv), argv.join(' ')).toBeNull();
  });
});
