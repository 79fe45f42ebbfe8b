/**
 * string-width with a fast path, for the bundle (scripts/esbuild-plugins.mjs puts it in place of `string-width` for
 * Ink, its libraries and src/tui/cells.ts). string-width's first call on a string that is not printable ASCII compiles
 * its Unicode property regexes (`\p{RGI_Emoji}` with the `v` flag) and segments graphemes: ~20 ms of the home
 * screen's first frame, for the box drawing, arrows and symbols every screen draws. Here a string made only of
 * printable ASCII and characters of NARROW (each one cell, alone and beside any other; SGR colour codes around them)
 * is measured by its length; anything else goes to string-width itself. test/unit/fast-width.test.ts compares the
 * two on every character of the table and on mixed strings.
 */
import stringWidth, { type Options } from 'string-width';

/**
 * Code points (inclusive ranges) that string-width 8 measures as one cell, alone and next to anything: Latin-1,
 * general punctuation, arrows, technical symbols, control pictures, box drawing, blocks, geometric shapes, symbols and
 * dingbats, less those it measures otherwise (soft hyphen, zero-width spaces, emoji presented wide). None of them
 * joins a neighbour into one grapheme. Made from string-width itself (and checked against it by the unit test).
 */
export const NARROW: ReadonlyArray<readonly [number, number]> = [
  [0xa0, 0xac],
  [0xae, 0xff],
  [0x2010, 0x2029],
  [0x202f, 0x205e],
  [0x2190, 0x21ff],
  [0x2300, 0x2319],
  [0x231c, 0x2328],
  [0x232b, 0x23e8],
  [0x23ed, 0x23ef],
  [0x23f1, 0x23f2],
  [0x23f4, 0x23ff],
  [0x2400, 0x243f],
  [0x2500, 0x257f],
  [0x2580, 0x259f],
  [0x25a0, 0x25fc],
  [0x25ff, 0x25ff],
  [0x2600, 0x2613],
  [0x2616, 0x262f],
  [0x2638, 0x2647],
  [0x2654, 0x267e],
  [0x2680, 0x2689],
  [0x2690, 0x2692],
  [0x2694, 0x26a0],
  [0x26a2, 0x26a9],
  [0x26ac, 0x26bc],
  [0x26bf, 0x26c3],
  [0x26c6, 0x26cd],
  [0x26cf, 0x26d3],
  [0x26d5, 0x26e9],
  [0x26eb, 0x26f1],
  [0x26f4, 0x26f4],
  [0x26f6, 0x26f9],
  [0x26fb, 0x26fc],
  [0x26fe, 0x26ff],
  [0x2700, 0x2704],
  [0x2706, 0x2709],
  [0x270c, 0x2727],
  [0x2729, 0x274b],
  [0x274d, 0x274d],
  [0x274f, 0x2752],
  [0x2756, 0x2756],
  [0x2758, 0x2794],
  [0x2798, 0x27af],
  [0x27b1, 0x27be],
];

const LIMIT = 0x2800;
const narrow = new Uint8Array(LIMIT);
narrow.fill(1, 0x20, 0x7f);
for (const [from, to] of NARROW) narrow.fill(1, from, to + 1);

/** Select Graphic Rendition (colours, bold…): what string-width's ANSI stripping removes from such a string. */
const SGR = /\u001b\[(?:\d{1,4}(?:;\d{0,4})*)?m/g;

/** The width of `text` when every character of it is in the table (SGR codes aside); else undefined. */
export function tableWidth(text: string): number | undefined {
  const s = text.includes('\u001b') ? text.replace(SGR, '') : text;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= LIMIT || narrow[c] === 0) return undefined;
  }
  return s.length;
}

/** string-width's answer, at once for the characters of the table. */
export default function fastStringWidth(text: string, options?: Options): number {
  if (typeof text === 'string' && (options === undefined || (options.ambiguousIsNarrow !== false && !options.countAnsiEscapeCodes))) {
    const width = tableWidth(text);
    if (width !== undefined) return width;
  }
  return stringWidth(text, options);
}
