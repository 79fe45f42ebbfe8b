/**
 * Text that arrives in pieces (a child's stdout) handed on a whole line at a time: `push` what comes, `end` when the
 * stream ends (a last line without a newline still counts).
 */
export function lineSplitter(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let partial = '';
  return {
    push(text) {
      const pieces = (partial + text).split('\n');
      partial = pieces.pop() ?? '';
      for (const l of pieces) onLine(l);
    },
    end() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}
