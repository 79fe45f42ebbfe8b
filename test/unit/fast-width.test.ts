/**
 * The bundle's string-width (src/tui/fast-width.ts) must measure exactly as string-width does: Ink lays out and
 * cells.ts pads with it, and a cell off would shift a column on screen. Compared on every character of its table,
 * beside others, with colour codes, and on mixed strings that also hold what it passes on (emoji, CJK, marks).
 */
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import fastStringWidth, { NARROW, tableWidth } from '../../src/tui/fast-width.js';

const table = NARROW.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)));
const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
/** Characters string-width measures otherwise, or that join a neighbour: they must go to string-width. */
const others = [
  '✔\uFE0F',
  '🚀',
  '张',
  '伟',
  'e\u0301',
  '\u200d',
  '\u00ad',
  '\u200b',
  '\t',
  '\u001b]8;;x\u0007',
  '\u009b31m',
  '한',
  '\uFE0F',
  '👍🏽',
  '🇫🇷',
];
const SGR = ['\u001b[31m', '\u001b[1;32m', '\u001b[0m', '\u001b[m', '\u001b[38;2;10;200;30m', '\u001b[39m'];

/** A small deterministic PRNG: the same strings every run, so a failure can be run again. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

describe('the fast string width', () => {
  it('measures every character of its table as string-width does: one cell alone, beside ASCII and doubled', () => {
    expect(table.length).toBeGreaterThan(1000);
    for (const c of table) {
      const cp = c.codePointAt(0)!.toString(16);
      expect([fastStringWidth(c), stringWidth(c)], cp).toEqual([1, 1]);
      expect(stringWidth(`a${c}b`), cp).toBe(fastStringWidth(`a${c}b`));
      expect(stringWidth(c + c), cp).toBe(fastStringWidth(c + c));
      expect(tableWidth(c), cp).toBe(1);
    }
  });

  it('holds the characters the screens draw: box drawing, marks, arrows', () => {
    for (const c of '─│┌┐└┘╭╮╰╯━·…✖↵→←↑↓⚠█✔›●—§❚▶▲■░•✓✎○▾▸␡␛⌫↻↷–×µ±') expect(tableWidth(c), c).toBe(1);
  });

  it('passes anything else to string-width, and agrees with it on mixed strings with colour codes', () => {
    for (const o of others) {
      expect(tableWidth(`ab${o}`), JSON.stringify(o)).toBeUndefined();
      expect(fastStringWidth(`ab${o}`)).toBe(stringWidth(`ab${o}`));
    }
    const rand = prng(0x5eed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let n = 0; n < 3000; n++) {
      let s = '';
      const len = 1 + Math.floor(rand() * 24);
      for (let i = 0; i < len; i++) {
        const r = rand();
        s += r < 0.45 ? pick(ascii) : r < 0.85 ? pick(table) : r < 0.95 ? pick(SGR) : pick(others);
      }
      expect(fastStringWidth(s), JSON.stringify(s)).toBe(stringWidth(s));
    }
  });

  it("follows string-width's options: wide ambiguous characters and counted escape codes go to it", () => {
    expect(fastStringWidth('─○·→', { ambiguousIsNarrow: false })).toBe(stringWidth('─○·→', { ambiguousIsNarrow: false }));
    expect(fastStringWidth('─○·→', { ambiguousIsNarrow: false })).toBe(8);
    expect(fastStringWidth('\u001b[31m→\u001b[0m', { countAnsiEscapeCodes: true })).toBe(
      stringWidth('\u001b[31m→\u001b[0m', { countAnsiEscapeCodes: true }),
    );
    expect(fastStringWidth('')).toBe(0);
  });
});
