import { secretSafeCut } from '../core/sanitize.js';

/**
 * Collects a running command's output and hands it on in chunks: complete lines only (so a secret is never
 * split across two events and escapes redaction), at most every `intervalMs`, or at once past `maxBytes`.
 * An incomplete line is handed on once the command has been quiet for `quietMs` (a prompt must be visible),
 * except what could be the first half of a secret (see {@link secretSafeCut}): a line that names one, its last
 * word, an unfinished private key block. A single line longer than `maxLineBytes` is cut at least `overlap`
 * characters before its end, where no token and no key with its value is split.
 * Each stream of one command (and of one command-line session: app/record-command.ts) has one buffer.
 */
export class OutputBuffer {
  private pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private timer: NodeJS.Timeout | null = null;
  /** The timer waits for the command to go quiet (a partial line is pending), not for the next interval. */
  private waitingForQuiet = false;
  private lastPush = 0;

  constructor(
    private readonly sink: (chunks: Array<{ stream: 'stdout' | 'stderr'; text: string }>) => void,
    private readonly intervalMs = 50,
    private readonly maxBytes = 64 * 1024,
    private readonly maxLineBytes = 64 * 1024,
    private readonly overlap = 256,
    private readonly quietMs = 1000,
  ) {}

  push(stream: 'stdout' | 'stderr', text: string): void {
    this.pending[stream] += text;
    this.lastPush = Date.now();
    // New output after a pause: a line it completes goes out at the next interval, not after another quiet second.
    if (this.timer && this.waitingForQuiet) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.stdout.length + this.pending.stderr.length >= this.maxBytes) this.flush(false);
    else if (!this.timer) {
      this.waitingForQuiet = false;
      this.timer = setTimeout(() => this.flush(false), this.intervalMs);
    }
  }

  /** Hand on what is ready; `final` also hands on incomplete last lines (the command has ended). */
  flush(final = true): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const chunks: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const buf = this.pending[stream];
      if (!buf) continue;
      let cut = final ? buf.length : buf.lastIndexOf('\n') + 1;
      if (!final && cut === 0 && buf.length > this.maxLineBytes) cut = buf.length - this.overlap;
      // A prompt or progress text without a newline, and the command has gone quiet: show it.
      if (!final && cut === 0 && Date.now() - this.lastPush >= this.quietMs) cut = buf.length;
      // ... but never the first half of a secret: the rest of it may still come.
      if (!final) cut = secretSafeCut(buf, cut, this.maxLineBytes);
      if (cut <= 0) continue;
      chunks.push({ stream, text: buf.slice(0, cut) });
      this.pending[stream] = buf.slice(cut);
    }
    if (chunks.length) this.sink(chunks);
    if (!final && (this.pending.stdout || this.pending.stderr) && !this.timer) {
      this.waitingForQuiet = true;
      this.timer = setTimeout(() => this.flush(false), this.quietMs);
    }
  }
}
