import { describe, expect, it } from 'vitest';
import { lastStableVersion, type DeployHistory } from '../../src/steps/rollback.js';
import type { GitReader } from '../../src/steps/types.js';

/** Release tags v1.1.0 < v1.2.0 < v1.3.0, newest first, as `git.lastRelease(ref)` answers them. */
const tags = ['1.3.0', '1.2.0', '1.1.0'];
const git = {
  async lastRelease(ref?: string) {
    const from = ref ? tags.indexOf(ref.replace(/^v/, '').replace(/\^$/, '')) + 1 : 0;
    const v = tags[from];
    return v ? { tag: `v${v}`, version: v, commit: `c${v}` } : null;
  },
} as unknown as GitReader;
const history = (answer: Awaited<ReturnType<DeployHistory['lastStable']>>): DeployHistory => ({ lastStable: async () => answer });

describe('the rollback step chooses its version', () => {
  it('takes the audit log’s last stable version first, with its reason', async () => {
    const got = await lastStableVersion(
      git,
      history({ version: '1.1.0', why: '1.1.0: deployed by alice, watch passed' }),
      'production',
      '1.3.0',
    );
    expect(got).toEqual({ version: '1.1.0', source: 'history', why: '1.1.0: deployed by alice, watch passed' });
  });

  it('falls back to the tag before the live one when the log has no stable deploy, and says so', async () => {
    const got = await lastStableVersion(git, history(null), 'production', '1.3.0');
    expect(got?.version).toBe('1.2.0');
    expect(got?.source).toBe('tag');
    expect(got?.why).toContain('no deploy here whose watch passed');
  });

  it('never rolls back to the version that is live: the log naming it falls back to the tags', async () => {
    const got = await lastStableVersion(git, history({ version: '1.3.0', why: 'x' }), 'production', '1.3.0');
    expect(got?.version).toBe('1.2.0');
    expect(got?.why).toContain('1.3.0, is the one live now');
  });
});
