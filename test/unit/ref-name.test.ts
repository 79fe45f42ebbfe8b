import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { refNameProblem } from '../../src/core/ref-name.js';
import { refName } from '../../src/steps/git-common.js';

// Names a release or hotfix could build from its parameters, good and bad, with every rule of git-check-ref-format(1).
const NAMES = [
  'main',
  'develop',
  'release/v1.2.3',
  'hotfix/v1.2.4-PROP-123',
  'v1.2.3',
  'feature/a/b/c',
  'a',
  '@',
  '@foo',
  'foo@bar',
  'foo@{1}',
  'a..b',
  'a.b',
  '.hidden',
  'a/.hidden',
  'a/b.lock',
  'a.lock/b',
  'a.lockb',
  'a/',
  '/a',
  'a//b',
  'a.',
  'a/b.',
  'a b',
  'a\tb',
  'a\nb',
  'a\u007fb',
  'a~1',
  'a^2',
  'a:b',
  'a?b',
  'a*b',
  'a[b',
  'a\\b',
  'a]b',
  'a{b}',
  'foo-',
  'héllo',
  '日本',
  'a/-b',
  'HEAD',
  'a,b',
  "a'b",
  'a"b',
  'a$b',
  'a!b',
  'a#b',
  'a|b',
  'a<b>',
  'a.lock',
  'lock',
  '.lock',
  'foo/..',
  '.',
  '..',
  'a@',
  'hotfix/v1.2.4-PROP 123',
  'hotfix/v1.2.4-$(rm -rf)',
  'release/v1.2.3..v2',
];

function gitAccepts(name: string): boolean {
  return spawnSync('git', ['check-ref-format', '--allow-onelevel', name], { stdio: 'ignore' }).status === 0;
}

describe('ref names: git check-ref-format rules', () => {
  it(`agrees with the real git check-ref-format on ${NAMES.length} names`, () => {
    const disagree = NAMES.filter((n) => gitAccepts(n) !== (refNameProblem(n) === null)).map(
      (n) => `${JSON.stringify(n)}: git ${gitAccepts(n) ? 'accepts' : 'refuses'}, refNameProblem says ${refNameProblem(n) ?? 'ok'}`,
    );
    expect(disagree).toEqual([]);
    // Both kinds are in the list, so the comparison cannot pass by accepting or refusing everything.
    expect(NAMES.filter((n) => refNameProblem(n) === null).length).toBeGreaterThan(10);
    expect(NAMES.filter((n) => refNameProblem(n) !== null).length).toBeGreaterThan(20);
  });

  it('says what is wrong in words', () => {
    expect(refNameProblem('a b')).toBe('contains a space');
    expect(refNameProblem('a..b')).toBe("contains '..'");
    expect(refNameProblem('x/y.lock')).toBe("has a part ending in '.lock' (y.lock)");
  });

  it('a step refuses a name built from a parameter, and one that git would read as an option', () => {
    expect(refName('hotfix/v${v}-${issue}', { v: '1.2.4', issue: 'PROP 1' }, 'the branch name')).toEqual({
      ok: false,
      reason: "the branch name 'hotfix/v1.2.4-PROP 1' is not a valid git ref name: it contains a space",
    });
    expect(refName('${b}', { b: '--force' }, 'the branch name')).toMatchObject({ ok: false });
    expect(refName('release/v${v}', { v: '1.2.3' }, 'the branch name')).toEqual({ ok: true, name: 'release/v1.2.3' });
  });
});
