/**
 * Collects a running command's output and hands it on in chunks: complete lines only (so a secret is never
 * split across two events and escapes redaction), at most every `intervalMs`, or at once past `maxBytes`.
 * An incomplete line is handed on once the command has been quiet for `quietMs` (a prompt must be visible).
 * A single line longer than `maxLineBytes` is cut, keeping an overlap so a literal secret at the cut stays whole.
 */
export class OutputBuffer {
  private pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private timer: NodeJS.Timeout | null = null;
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
    if (this.pending.stdout.length + this.pending.stderr.length >= this.maxBytes) this.flush(false);
    else if (!this.timer) this.timer = setTimeout(() => this.flush(false), this.intervalMs);
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
      if (cut <= 0) continue;
      chunks.push({ stream, text: buf.slice(0, cut) });
      this.pending[stream] = buf.slice(cut);
    }
    if (chunks.length) this.sink(chunks);
    if (!final && (this.pending.stdout || this.pending.stderr) && !this.timer) {
      this.timer = setTimeout(() => this.flush(false), this.quietMs);
    }
  }
}
