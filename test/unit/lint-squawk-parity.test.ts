import { describe, expect, it } from 'vitest';
import { cockpitFlags, loadSquawkCases, parity, parityText, RULE_MAP } from '../helpers/squawk-parity.js';

const cases = loadSquawkCases();

describe('lint agrees with squawk’s own rule tests (test/fixtures/squawk-cases.json)', () => {
  it('has a case set worth the name: every mapped squawk rule, at least 80 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    for (const rule of Object.keys(RULE_MAP))
      expect(
        cases.some((c) => c.rule === rule),
        rule,
      ).toBe(true);
    for (const c of cases) expect(RULE_MAP[c.rule], c.rule).toBeDefined();
  });

  it.each(cases.map((c, i) => [`${i + 1} ${c.rule}: ${c.note}`, c] as const))('%s', (_name, c) => {
    const flagged = cockpitFlags(c);
    // A deliberate difference is asserted as one: the cockpit's verdict is the opposite of squawk's.
    if (c.cockpitDiffers) expect(flagged, `cockpit differs: ${c.cockpitDiffers}\n${c.sql}`).toBe(!c.shouldFlag);
    else expect(flagged, c.sql).toBe(c.shouldFlag);
  });

  it('counts', () => {
    const r = parity(cases);
    console.log(parityText(r));
    expect(r.disagreements).toEqual([]);
    expect(r.staleDiffers).toEqual([]);
  });
});
