/**
 * A frame of one-line texts, written exactly as Ink 6 writes it, without React, Ink or yoga: the plain first frame of
 * the home screen (tui/home-plain.ts, docs/architecture.md §6) is drawn with it before Ink has loaded, and Ink's own
 * first frame then repeats it byte for byte (first-frame.ts's hand-over drops what repeats).
 *
 * Ink's pipeline for a `<Text>` of one line, followed step by step with the same libraries Ink uses:
 *   1. its children's text, each nested `<Text>`'s styles applied to its own text (chalk: colour, bold, inverse, in
 *      that order), unless that text is empty (squash-text-nodes.js);
 *   2. cut with `…` (cli-truncate, position end) when wider than its box (wrap="truncate-end"; render-node-to-output.js);
 *   3. its own styles applied to the line (Output's transformers);
 *   4. split into styled characters (@alcalzone/ansi-tokenize) placed from the left of a row of `width` spaces;
 *      every row written as styled characters again (styledCharsToString's bytes) with its trailing spaces cut (output.js);
 *   5. the rows joined with newlines, then one more, between the synchronized-update marks, the cursor hidden first
 *      (ink.js's throttled log and log-update.js), as Ink writes a frame shorter than the terminal.
 * A text that would wrap (wider than the box without truncate) is not supported: `inkLine` returns null for it, and
 * the caller draws nothing (the normal start).
 */
import chalk from 'chalk';
import cliTruncate from 'cli-truncate';
import {
  ansiCodesToString,
  diffAnsiCodes,
  styledCharsFromTokens,
  tokenize,
  type AnsiCode,
  type StyledChar,
} from '@alcalzone/ansi-tokenize';
import { cellWidth } from './cells.js';

export interface TextStyle {
  /** One of chalk's named colours (the themes use no other). */
  color?: string;
  bold?: boolean;
  inverse?: boolean;
  /** wrap="truncate-end": cut with `…` when too wide (else the text must fit). */
  truncate?: boolean;
}

/** A `<Text>`'s children: strings and nested texts. */
export type Span = string | InkText;
export interface InkText {
  style: TextStyle;
  children: Span[];
}

export const text = (style: TextStyle, ...children: Span[]): InkText => ({ style, children });

const SYNC_ON = '\u001b[?2026h';
const SYNC_OFF = '\u001b[?2026l';
const HIDE_CURSOR = '\u001b[?25l';

type Paint = (s: string) => string;

function styled(style: TextStyle, s: string): string {
  let out = s;
  if (style.color) {
    const paint = (chalk as unknown as Record<string, Paint | undefined>)[style.color];
    if (typeof paint !== 'function') throw new Error(`not a named colour: ${style.color}`);
    out = paint(out);
  }
  if (style.bold) out = chalk.bold(out);
  if (style.inverse) out = chalk.inverse(out);
  return out;
}

function squash(children: readonly Span[]): string {
  let out = '';
  for (const c of children) {
    if (typeof c === 'string') out += c;
    else {
      const inner = squash(c.children);
      out += inner.length ? styled(c.style, inner) : '';
    }
  }
  return out;
}

/** A row's styled characters as Ink writes a `<Text>` in a box `width` cells wide; [] when it has no text; null when it would wrap. */
export function inkLine(t: InkText, width: number): StyledChar[] | null {
  let s = squash(t.children);
  if (!s.length) return [];
  if (s.includes('\n')) return null;
  if (cellWidth(s) > width) {
    if (!t.style.truncate) return null;
    s = cliTruncate(s, width, { position: 'end' });
  }
  return styledCharsFromTokens(tokenize(styled(t.style, s)));
}

const sameCodes = (a: readonly AnsiCode[], b: readonly AnsiCode[]) => a.length === b.length && a.every((c, i) => c.code === b[i].code);

/**
 * ansi-tokenize's styledCharsToString, which Ink's Output uses, in the same bytes: the codes from one character's
 * styles to the next's (diffAnsiCodes), the closing codes after the last. Computed only where the styles change (from
 * equal styles the difference is none): the library diffs every pair of characters, which cold, before the JIT has
 * seen it, costs ~10 ms for a screen.
 */
function charsToString(chars: readonly StyledChar[]): string {
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const styles = chars[i].styles;
    if (i === 0) out += ansiCodesToString(styles);
    else if (!sameCodes(chars[i - 1].styles, styles)) out += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, styles));
    out += chars[i].value;
  }
  return chars.length ? out + ansiCodesToString(diffAnsiCodes(chars[chars.length - 1].styles, [])) : out;
}

/** Rows of styled characters as the text of Ink's frame: each placed in `width` spaces, its trailing spaces cut. */
export function inkRows(rows: ReadonlyArray<readonly StyledChar[]>, width: number): string {
  return rows
    .map((chars) => {
      const row: Array<StyledChar | undefined> = Array.from({ length: width }, () => ({
        type: 'char' as const,
        value: ' ',
        fullWidth: false,
        styles: [],
      }));
      let x = 0;
      for (const ch of chars) {
        row[x] = ch;
        const w = Math.max(1, cellWidth(ch.value));
        for (let i = 1; i < w; i++) row[x + i] = { type: 'char', value: '', fullWidth: false, styles: ch.styles };
        x += w;
      }
      return charsToString(row.filter((c): c is StyledChar => c !== undefined)).trimEnd();
    })
    .join('\n');
}

/** The bytes Ink writes for its first frame `frame` (fewer rows than the terminal's) on a terminal. */
export function inkFirstWrite(frame: string): string {
  return `${SYNC_ON}${HIDE_CURSOR}${frame}\n${SYNC_OFF}`;
}
