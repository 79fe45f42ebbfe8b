import { createContext, useContext } from 'react';
import type { StepStatus } from '../core/reducer.js';
import { GLYPH as REPORT_GLYPH } from '../report/style.js';
import type { Theme } from './theme-colors.js';
import { colorTheme } from './theme-colors.js';

export { colorTheme, noColorTheme, themeFor, type Theme } from './theme-colors.js';

/** The status glyphs of the plain-text reports, so a step looks the same on screen and in a log. */
export const GLYPH = REPORT_GLYPH as Record<StepStatus, string>;
/** A step that passed with nothing to check. */
export const UNCHECKED = REPORT_GLYPH.unchecked;

export const ThemeContext = createContext<Theme>(colorTheme);
export const useTheme = () => useContext(ThemeContext);
