import { neutralize } from '../core/sanitize.js';
import { cellWidth, splitCells } from './cells.js';

/**
 * One line as the screen shows it: control sequences from outside made visible (the log is sanitised when it is
 * written, but a replayed log may have been written by anyone), tabs expanded so columns stay where Ink puts them.
 */
export function screenLine(text: string): string {
  const t = neutralize(text).replace(/\n/g, ' ');
  if (!t.includes('\t')) return t;
  let out = '';
  for (const ch of t) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/**
 * Prose hard-wrapped in a YAML block (a step's help, a policy quote) as its paragraphs: a line is joined to the one
 * before it unless that one ends a sentence (. : ! ?) or is blank, or this one is blank, starts a list item (- * 1.),
 * a quote (>) or a table row (|), or is indented differently. The pane wraps the result to its own width, so a text
 * written at 110 columns is not broken again at 50 into ragged halves.
 */
export function reflow(text: string): string {
  const out: string[] = [];
  const indent = (l: string) => l.length - l.trimStart().length;
  for (const line of text.split('\n')) {
    const prev = out.at(-1);
    const joins =
      prev !== undefined &&
      prev.trim() !== '' &&
      line.trim() !== '' &&
      !/[.:!?]["')\]]?$/.test(prev.trimEnd()) &&
      !/^\s*(?:[-*>|]|\d+[.)])\s/.test(line) &&
      indent(line) === indent(prev.replace(/^(\s*)(?:[-*]|\d+[.)])\s+/, (m, sp: string) => sp + ' '.repeat(m.length - sp.length)));
    if (joins) out[out.length - 1] = `${prev.trimEnd()} ${line.trim()}`;
    else out.push(line);
  }
  return out.join('\n');
}

/** The lines of a block of text (help, policy), each made safe for the screen. */
export function screenLines(text: string | undefined): string[] {
  if (!text) return [];
  return neutralize(text).trimEnd().split('\n').map(screenLine);
}

/** Word-wrap plain text to a width in cells (the detail pane wraps itself, so its height is known before render). */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    if (cellWidth(para) <= w) {
      out.push(para);
      continue;
    }
    let line = '';
    for (const word of para.split(/(\s+)/)) {
      if (cellWidth(line + word) <= w) {
        line += word;
        continue;
      }
      if (line.trim()) out.push(line.trimEnd());
      line = word.trimStart();
      while (cellWidth(line) > w) {
        // A word wider than the line is broken between characters (a wide one is never split in half).
        const [head, rest] = splitCells(line, w);
        out.push(head || [...line][0]);
        line = head ? rest : line.slice([...line][0].length);
      }
    }
    if (line.trim() || !out.length) out.push(line.trimEnd());
  }
  return out;
}

/** A window of `size` rows over `total` items that keeps `selected` visible, centred when it can be. */
export function windowAround(total: number, selected: number, size: number): { start: number; end: number } {
  if (total <= size) return { start: 0, end: total };
  const start = Math.min(Math.max(0, selected - Math.floor(size / 2)), total - size);
  return { start, end: start + size };
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

export function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}
