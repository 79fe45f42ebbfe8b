import stringWidth from 'string-width';

/**
 * Terminal cells, not string length: a CJK character or an emoji takes two columns, a combining mark none. Ink
 * measures with `string-width`; the screens measure with it too, so what they pad and cut lines up with what Ink draws.
 */
export function cellWidth(text: string): number {
  return stringWidth(text);
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The longest start of `text` that takes at most `width` cells (never half of a wide character), and the rest. */
export function splitCells(text: string, width: number): [string, string] {
  let used = 0;
  let at = 0;
  for (const { segment, index } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) return [text.slice(0, index), text.slice(index)];
    used += w;
    at = index + segment.length;
  }
  return [text.slice(0, at), text.slice(at)];
}

/** `text` cut to `width` cells, with `…` where it was cut. */
export function fitCells(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  return splitCells(text, width - 1)[0].trimEnd() + '…';
}

/** `text` cut to `width` cells and padded with spaces to exactly that many (right-aligned with `right`). */
export function padCells(text: string, width: number, right = false): string {
  const s = fitCells(text, width);
  const fill = ' '.repeat(Math.max(0, width - stringWidth(s)));
  return right ? fill + s : s + fill;
}

/** A column of a row: how wide its widest value is, and how much less it can make do with. */
export interface ColumnNeed {
  /** The widest value, in cells. */
  want: number;
  /** The least it is shown at (cut with `…`); `want` (the default) means whole or not at all. */
  min?: number;
  /** Takes the cells left over at the end (the last, free-text column). */
  grow?: boolean;
}

/**
 * Widths for columns given in order of priority (the first matters most) that share `width` cells, `gap` cells
 * between two shown columns. Each column in turn takes up to its widest value from what is left, cut to no less
 * than its least width, or is left out (0) when even that does not fit; a `grow` column then takes what is left.
 * So a column that matters more is never cut while one that matters less is shown.
 */
export function allocateColumns(columns: readonly ColumnNeed[], width: number, gap = 1): number[] {
  let left = width;
  let shown = 0;
  const widths = columns.map((c) => {
    const room = left - (shown ? gap : 0);
    const least = Math.max(1, Math.min(c.min ?? c.want, c.want));
    const w = Math.min(c.want, room);
    if (c.want <= 0 || w < least) return 0;
    left = room - w;
    shown++;
    return w;
  });
  const grow = columns.findIndex((c, i) => c.grow && widths[i] > 0);
  if (grow >= 0) widths[grow] += left;
  return widths;
}

/**
 * Widths for columns in order of priority that share `width` cells, when showing more columns matters more than
 * showing each whole: every column that fits at its least width is shown (in order of priority, the first matters
 * most; one that does not fit is left out, 0), then the cells left widen them towards their widest value, again in
 * order of priority, and a `grow` column takes what is left after that. A column that matters less is left out
 * before one that matters more is, but one that matters more may be cut (to no less than its least) while it is shown.
 */
export function allocateLeastFirst(columns: readonly ColumnNeed[], width: number, gap = 1): number[] {
  let left = width;
  let shown = 0;
  const least = columns.map((c) => Math.max(1, Math.min(c.min ?? c.want, c.want)));
  const widths = columns.map((c, i) => {
    const room = left - (shown ? gap : 0);
    if (c.want <= 0 || least[i] > room) return 0;
    left = room - least[i];
    shown++;
    return least[i];
  });
  for (let i = 0; i < columns.length && left > 0; i++) {
    if (!widths[i]) continue;
    const more = Math.min(left, columns[i].want - widths[i]);
    widths[i] += more;
    left -= more;
  }
  const grow = columns.findIndex((c, i) => c.grow && widths[i] > 0);
  if (grow >= 0) widths[grow] += left;
  return widths;
}

/**
 * Parts of one line, joined with `sep` in the order given, that fit `width` cells, space given by priority: the
 * parts are taken from the lowest `priority` number up, each kept when it still fits beside those kept before it
 * (so a short part that matters less may be shown where a long one that matters more is not); what matters most is
 * never left out for what matters less. When the most important part alone is too wide, it is cut with `…`.
 */
export function fitParts(parts: ReadonlyArray<{ text: string; priority: number }>, width: number, sep = ' · '): string {
  const given = parts.filter((p) => p.text);
  if (!given.length) return '';
  const byPriority = [...given].sort((a, b) => a.priority - b.priority);
  const kept = new Set([byPriority[0]]);
  let used = cellWidth(byPriority[0].text);
  const gap = cellWidth(sep);
  for (const p of byPriority.slice(1)) {
    const w = cellWidth(p.text) + gap;
    if (used + w > width) continue;
    kept.add(p);
    used += w;
  }
  return fitCells(
    given
      .filter((p) => kept.has(p))
      .map((p) => p.text)
      .join(sep),
    width,
  );
}
