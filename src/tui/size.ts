import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export { MIN_COLUMNS, MIN_ROWS } from './limits.js';

export interface Size {
  columns: number;
  rows: number;
}

function read(stdout: NodeJS.WriteStream): Size {
  // ink-testing-library's stdout has 100 columns and no rows: 30 rows then, the size of the tmux test's pane.
  return { columns: stdout.columns || 100, rows: stdout.rows || 30 };
}

/** The terminal's size, kept current on resize. */
export function useTerminalSize(): Size {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => read(stdout));
  useEffect(() => {
    const onResize = () => setSize(read(stdout));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
