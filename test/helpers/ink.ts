import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import { stripVTControlCharacters } from 'node:util';

export type Rendered = ReturnType<typeof render>;

/** Key sequences as a terminal sends them. */
export const KEY = {
  enter: '\r',
  esc: '\u001b',
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  pgup: '\u001b[5~',
  pgdn: '\u001b[6~',
  tab: '\t',
  backspace: '\u007f',
  ctrlC: '\u0003',
  /** F1 as xterm (and tmux) send it. */
  f1: '\u001bOP',
} as const;

/** One macrotask and one more: React 19 flushes its effects (re-subscribing input handlers), Ink flushes a lone Esc. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(() => setTimeout(r, 0)));
}

export function frame(app: Rendered): string {
  return stripVTControlCharacters(app.lastFrame() ?? '');
}

/** Wait until the frame shows `what` (ink-testing-library has no waitFor). */
export async function waitFor(app: Rendered, what: string | RegExp | ((frame: string) => boolean), timeoutMs = 10_000): Promise<string> {
  const test = typeof what === 'function' ? what : (f: string) => (typeof what === 'string' ? f.includes(what) : what.test(f));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const f = frame(app);
    // Every frame a flow sees must fit the terminal: a region that spills over would be caught here.
    const problem = frameProblem(f);
    if (problem) throw new Error(`${problem}\nthe frame was:\n${f}`);
    if (test(f)) return f;
    if (Date.now() > until) throw new Error(`timed out waiting for ${String(what)}; the frame was:\n${f}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Type keys one at a time, letting the app take each before the next (as a person would). */
export async function press(app: Rendered, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    app.stdin.write(k);
    await settle();
    await settle();
  }
}

/** Type text as one paste would arrive. */
export async function type(app: Rendered, text: string): Promise<void> {
  app.stdin.write(text);
  await settle();
  await settle();
}

/** Wait until a condition holds (for what is not on screen: an exit code, a file). */
export async function until(cond: () => boolean, what = 'the condition', timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The frame must fit the terminal (ink-testing-library's: 100 columns; the cockpit takes 30 rows there): rows - 1 high at most, no line wider. */
export function frameProblem(f: string, columns = 100, rows = 30): string | null {
  const lines = f.split('\n');
  if (lines.length > rows - 1) return `the frame has ${lines.length} lines; the terminal has ${rows} rows (at most ${rows - 1} allowed)`;
  const wide = lines.findIndex((l) => stringWidth(l) > columns);
  return wide >= 0 ? `line ${wide + 1} is ${stringWidth(lines[wide])} columns wide (terminal: ${columns}): ${lines[wide]}` : null;
}
