/**
 * The themes' colours, without React: the plain first frame (tui/home-plain.ts) draws with them too.
 */
import type { StepStatus } from '../core/reducer.js';

/**
 * Semantic colours. Every colour on screen is paired with a glyph or a word, so the NoColor theme (NO_COLOR set,
 * or TERM=dumb) loses nothing: Ink's chalk ignores NO_COLOR, so the cockpit leaves colours out itself, and keeps
 * bold and inverse, which are not colours.
 */
export interface Theme {
  name: 'color' | 'no-color';
  status(s: StepStatus | 'finished' | 'aborted'): string | undefined;
  accent: string | undefined;
  muted: string | undefined;
  danger: string | undefined;
  warn: string | undefined;
  ok: string | undefined;
  border: string | undefined;
}

const STATUS_COLOR: Record<string, string> = {
  pending: 'gray',
  running: 'cyan',
  waiting: 'yellow',
  passed: 'green',
  failed: 'red',
  skipped: 'magenta',
  interrupted: 'yellow',
  finished: 'green',
  aborted: 'red',
};

export const colorTheme: Theme = {
  name: 'color',
  status: (s) => STATUS_COLOR[s],
  accent: 'cyan',
  muted: 'gray',
  danger: 'red',
  warn: 'yellow',
  ok: 'green',
  border: 'gray',
};

export const noColorTheme: Theme = {
  name: 'no-color',
  status: () => undefined,
  accent: undefined,
  muted: undefined,
  danger: undefined,
  warn: undefined,
  ok: undefined,
  border: undefined,
};

/** no-color.org: any non-empty NO_COLOR turns colour off. */
export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return (env.NO_COLOR ?? '') !== '' || env.TERM === 'dumb' ? noColorTheme : colorTheme;
}
