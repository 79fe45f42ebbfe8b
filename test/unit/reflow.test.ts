// A step's help and policy are hard-wrapped in their YAML at ~110 columns; the detail pane wraps to its own width.
// Without joining the lines of a paragraph first, each written line breaks again into a long half and a short one.
import { describe, expect, it } from 'vitest';
import { reflow, wrap } from '../../src/tui/text.js';

const HELP = `Why a person: the policy asks for these by hand; the smoke checks call a few URLs, while a flow
(signing up, publishing a listing, paying) crosses pages.
By hand, on the live site: sign up/log in, the core property workflows your team lists as
critical, and one real low-value payment.
Done when: every critical flow works end to end.`;

describe('reflow', () => {
  it('joins the lines of a sentence, and starts a line where the author ended a sentence', () => {
    expect(reflow(HELP).split('\n')).toEqual([
      'Why a person: the policy asks for these by hand; the smoke checks call a few URLs, while a flow (signing up, publishing a listing, paying) crosses pages.',
      'By hand, on the live site: sign up/log in, the core property workflows your team lists as critical, and one real low-value payment.',
      'Done when: every critical flow works end to end.',
    ]);
  });

  it('keeps list items, their continuations, blank lines, quotes and indented blocks', () => {
    const text =
      'Consider a rollback when:\n- Critical functionality\n  is broken\n- Payment failures exceed 1%\n\n> quoted\n    code line\n1. first\n2. second';
    expect(reflow(text)).toBe(
      'Consider a rollback when:\n- Critical functionality is broken\n- Payment failures exceed 1%\n\n> quoted\n    code line\n1. first\n2. second',
    );
  });

  it("at 50 columns, no line of a paragraph is a short leftover of the author's line", () => {
    const rows = reflow(HELP)
      .split('\n')
      .flatMap((p) => wrap(p, 50));
    // Every row but each paragraph's last is nearly full.
    const full = rows.filter((r, i) => i < rows.length - 1 && !/[.]$/.test(r));
    for (const r of full) expect(r.length).toBeGreaterThan(38);
  });
});
