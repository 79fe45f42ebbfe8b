import { styleText } from 'node:util';

export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold' | 'dim' | 'magenta';

/** Colour only for a terminal, and never with NO_COLOR set; every colour is paired with a glyph or a word. */
export function makeStyler(stream: NodeJS.WriteStream | { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env) {
  const on = !!stream.isTTY && !('NO_COLOR' in env) && env.TERM !== 'dumb';
  return (style: Style, text: string) => (on ? styleText(style, text) : text);
}

export const GLYPH: Record<string, string> = {
  pending: '·',
  running: '▶',
  waiting: '?',
  passed: '✔',
  failed: '✖',
  skipped: '↷',
  interrupted: '⚠',
  /** Passed, but there was nothing to check. */
  unchecked: '○',
};
