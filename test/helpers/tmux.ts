import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const EXIT_MARK = '[command exited ';

/** A real terminal: a detached tmux session running one command; type with send-keys, read with capture-pane. */
export class Tmux {
  readonly name = `cockpit-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  static available(): { ok: true } | { ok: false; why: string } {
    const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
    return r.status === 0 ? { ok: true } : { ok: false, why: 'tmux is not installed (apt-get install -y tmux)' };
  }

  constructor(command: string, opts: { cwd: string; env?: Record<string, string>; width?: number; height?: number }) {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // A private server (-L) with no user config. The command runs under a shell that survives Ctrl-C (a no-op
    // trap; the command itself gets the default disposition) and prints its exit status, then stays open: tmux's
    // own pane-death bookkeeping proved unreliable to poll.
    const wrapped = `trap : INT; ${command}; echo "${EXIT_MARK}$?]"; exec sleep 3600`;
    this.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(opts.width ?? 100),
      '-y',
      String(opts.height ?? 30),
      '-c',
      opts.cwd,
      ...env,
      wrapped,
    );
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.name, ...args], { encoding: 'utf8' });
  }

  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** The pane's text, one line per row (trailing blanks trimmed); `joined` joins rows the terminal wrapped (capture-pane -J). */
  screen(opts: { joined?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', ...(opts.joined ? ['-J'] : []), '-t', this.name);
  }

  /** Resize the window as a user dragging the terminal would (the program gets SIGWINCH). */
  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
  }

  /** Exit status of the command once it has ended, else null. */
  exitStatus(): number | null {
    const m = new RegExp(`${EXIT_MARK.replace(/[[\]]/g, '\\$&')}(\\d+)\\]`).exec(this.screen());
    return m ? Number(m[1]) : null;
  }

  async waitFor(pred: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      last = this.screen();
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
  }

  /**
   * The screen once it has settled (two captures alike), starting from `first`. A capture can catch Ink half-way
   * through repainting (tmux 3.3 drops synchronized output), so what is asserted about a whole frame is asserted on
   * a settled one.
   */
  async settled(first: string): Promise<string> {
    let s = first;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 30));
      const again = this.screen();
      if (again === s) break;
      s = again;
    }
    return s;
  }

  waitForText(text: string, timeoutMs?: number): Promise<string> {
    return this.waitFor((s) => s.includes(text), JSON.stringify(text), timeoutMs);
  }

  async waitForExit(timeoutMs = 15_000): Promise<number> {
    await this.waitFor(() => this.exitStatus() !== null, 'the command to exit', timeoutMs);
    return this.exitStatus()!;
  }

  kill(): void {
    // tmux 3.3 leaves the server's socket file behind after kill-server: remove it too.
    const socket = spawnSync('tmux', ['-L', this.name, 'display-message', '-p', '#{socket_path}'], { encoding: 'utf8' }).stdout?.trim();
    spawnSync('tmux', ['-L', this.name, 'kill-server']);
    if (socket) rmSync(socket, { force: true });
  }
}

// ───────────────────────────── frames ─────────────────────────────

/** The rows of a capture (capture-pane ends each row with a newline, trailing blanks trimmed). */
export function rows(screen: string): string[] {
  const lines = screen.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Columns a captured row takes: every glyph the cockpit draws (✔ › │ … ↵) is one column wide. */
export const columns = (line: string) => [...line].length;

/**
 * What is wrong with a frame of a `width`x`height` terminal, or null: more than height-1 rows drawn (Ink 6 repaints the
 * whole terminal once a frame reaches the last row), a row wider than the terminal, or (`statusBar`) the status bar not
 * last. A frame being painted may be caught half drawn, so screens polled on the way are checked without `statusBar`.
 */
export function frameProblem(
  screen: string,
  width: number,
  height: number,
  opts: { statusBar: boolean } = { statusBar: true },
): string | null {
  const lines = rows(screen);
  if (lines.length > height) return `${lines.length} rows captured in a ${height}-row pane`;
  const used = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  const last = used.at(-1);
  if (last === undefined) return opts.statusBar ? 'the pane is empty' : null;
  if (last > height - 2) return `row ${last + 1} of ${height} is drawn (the frame is ${height - 1} rows at most)`;
  const wide = lines.find((l) => columns(l) > width);
  if (wide !== undefined) return `a row is ${columns(wide)} columns wide in a ${width}-column pane: ${JSON.stringify(wide)}`;
  // The status bar ends with help and quit (in a text field, where ? is typed: ctrl-c quit).
  if (opts.statusBar && !/\? help|ctrl-c quit/.test(lines[last]))
    return `the last row is not the status bar: ${JSON.stringify(lines[last])}`;
  return null;
}
