import { createContext, useContext } from 'react';
import type { StepStatus } from '../core/reducer.js';
import { GLYPH as REPORT_GLYPH } from '../report/style.js';

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

/** The status glyphs of the plain-text reports, so a step looks the same on screen and in a log. */
export const GLYPH = REPORT_GLYPH as Record<StepStatus, string>;
/** A step that passed with nothing to check. */
export const UNCHECKED = REPORT_GLYPH.unchecked;

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

export const ThemeContext = createContext<Theme>(colorTheme);
export const useTheme = () => useContext(ThemeContext);
