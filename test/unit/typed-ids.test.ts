import { describe, expect, it } from 'vitest';
import { RULES, type RuleId } from '../../src/core/migrate/lint.js';
import { BINDINGS, type Command } from '../../src/tui/keymap.js';

// The ids are string-literal unions derived from their tables: `tsc --noEmit` (npm run lint, in CI) fails on a
// misspelt one. Each @ts-expect-error below would itself be an error if the misspelling compiled.
describe('typed ids: a misspelt key command or lint rule id does not compile', () => {
  it('key commands come from the keymap table', () => {
    const open: Command = 'home.open';
    // @ts-expect-error 'home.opne' is not a command of the keymap
    const misspelt: Command = 'home.opne';
    expect(BINDINGS.some((b) => b.command === open)).toBe(true);
    expect(BINDINGS.some((b) => b.command === misspelt)).toBe(false);
  });

  it('lint rule ids come from the rule table', () => {
    const rule: RuleId = 'index-not-concurrent';
    // @ts-expect-error 'index-not-concurent' is not a lint rule
    const misspelt: RuleId = 'index-not-concurent';
    expect(RULES[rule]).toBe('error');
    expect(Object.keys(RULES)).not.toContain(misspelt);
  });
});
