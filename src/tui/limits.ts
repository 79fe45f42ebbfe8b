/** Below this the cockpit says so instead of drawing a frame that cannot fit (no React here: the plain first frame reads it). */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;
