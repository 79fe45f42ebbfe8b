/**
 * OutputBuffer hands a command's output on in pieces; each piece is redacted alone by the store. A secret must
 * never be handed on in two pieces: not when the command pauses in the middle of it, not at the line limit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultRedactor, secretSafeCut } from '../../src/core/sanitize.js';
import { OutputBuffer } from '../../src/engine/output-buffer.js';
import { CORPUS, leaked } from '../helpers/secret-corpus.js';

type Chunk = { stream: 'stdout' | 'stderr'; text: string };

/** A buffer whose pieces are kept as the store keeps them: each one redacted on its own. */
function recorded(maxLine = 64 * 1024, overlap = 256) {
  const pieces: Chunk[] = [];
  const buf = new OutputBuffer((cs) => pieces.push(...cs), 50, maxLine, maxLine, overlap, 1000);
  return {
    buf,
    pieces,
    raw: () => pieces.map((p) => p.text).join(''),
    stored: () => pieces.map((p) => defaultRedactor(p.text)).join('\u0000'),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OutputBuffer: a secret written in two halves with a pause between them', () => {
  it.each(CORPUS.map((e) => [e.shape, e] as const))('%s: whole, whatever the split point', (_s, e) => {
    const line = `${e.text}\n`;
    for (let at = 1; at < line.length - 1; at++) {
      const r = recorded();
      r.buf.push('stdout', `before ${at}\n${line.slice(0, at)}`);
      vi.advanceTimersByTime(1200); // quiet: the partial line is flushed, except what may be a secret
      r.buf.push('stdout', line.slice(at));
      vi.advanceTimersByTime(1200);
      r.buf.flush(true);
      expect(r.raw()).toBe(`before ${at}\n${line}`); // nothing lost, nothing doubled
      expect(leaked(r.stored(), e.secret), `split at ${at}: ${JSON.stringify(r.pieces)}`).toBeNull();
    }
  });

  it('a prompt without a newline is still shown when the command goes quiet', () => {
    const r = recorded();
    r.buf.push('stdout', 'Continue? [y/N] ');
    vi.advanceTimersByTime(1100);
    expect(r.raw()).toBe('Continue? [y/N] ');
  });

  it('progress without a newline is shown up to its last word, the rest when the line ends', () => {
    const r = recorded();
    r.buf.push('stdout', 'downloading 45%');
    vi.advanceTimersByTime(1100);
    expect(r.raw()).toBe('downloading ');
    r.buf.push('stdout', ' done\n');
    vi.advanceTimersByTime(100);
    expect(r.raw()).toBe('downloading 45% done\n');
  });

  it('a progress line redrawn after a carriage return is shown; one that names a secret waits for its end', () => {
    const r = recorded();
    r.buf.push('stdout', 'fetching https://example.com/a.tgz\rfetching https://example.com/a.tgz 45% ');
    vi.advanceTimersByTime(1100);
    expect(r.raw()).toBe('fetching https://example.com/a.tgz\r');
    r.buf.push('stdout', '\rTOKEN=ab');
    vi.advanceTimersByTime(1100);
    expect(r.raw()).toBe('fetching https://example.com/a.tgz\rfetching https://example.com/a.tgz 45% \r');
    r.buf.push('stdout', 'cd1234\n');
    r.buf.flush(true);
    expect(r.stored()).toContain('TOKEN=[REDACTED]');
    expect(r.stored()).not.toMatch(/TOKEN=ab|cd1234/);
  });

  it('a private key block is held until its END line, however slowly it is printed', () => {
    const pem = CORPUS.find((e) => e.shape.startsWith('PEM'))!;
    const lines = pem.text.split('\n').map((l) => `${l}\n`);
    const r = recorded();
    for (const l of lines) {
      r.buf.push('stdout', l);
      vi.advanceTimersByTime(1200);
    }
    r.buf.flush(true);
    expect(r.raw()).toBe(lines.join(''));
    expect(leaked(r.stored(), pem.secret)).toBeNull();
  });
});

describe('OutputBuffer: a secret at the line limit', () => {
  const MAX = 2048;
  const OVERLAP = 64;
  const PIPE = 700;
  /** Where the line is first cut: once more than MAX is pending (after a pipe-sized write), OVERLAP before its end. */
  const CUT = Math.ceil((MAX + 1) / PIPE) * PIPE - OVERLAP;
  for (const filler of ['word ', 'x', '{"k":"v",']) {
    it(`no corpus secret is cut in two (filler ${JSON.stringify(filler)}), written in pipe-sized pieces`, () => {
      for (const e of CORPUS.filter((x) => !x.text.includes('\n'))) {
        // place the secret across the point where the line would be cut
        const at = e.text.indexOf(e.secret) + Math.floor(e.secret.length / 2);
        for (const shift of [-5, -1, 0, 1, 4]) {
          const lead = CUT + shift - at - 1;
          expect(lead).toBeGreaterThan(0);
          const line = `${filler.repeat(Math.ceil(lead / filler.length)).slice(0, lead)} ${e.text}${' tail'.repeat(200)}\n`;
          const r = recorded(MAX, OVERLAP);
          for (let i = 0; i < line.length; i += PIPE) r.buf.push('stdout', line.slice(i, i + PIPE));
          r.buf.flush(true);
          expect(r.raw()).toBe(line);
          expect(r.pieces.length, e.shape).toBeGreaterThan(1); // the line was cut
          expect(leaked(r.stored(), e.secret), `${e.shape} shift ${shift}`).toBeNull();
        }
      }
    });
  }
});

describe('secretSafeCut', () => {
  it('keeps a key with its value at a cut inside a long line', () => {
    const buf = `${'a '.repeat(100)}"password": "hunter22 and more" ${'b '.repeat(100)}`;
    const c = secretSafeCut(buf, buf.indexOf('hunter22') + 3);
    expect(c).toBeLessThanOrEqual(buf.indexOf('password'));
  });

  it('cuts at a newline as asked', () => {
    expect(secretSafeCut('a\nb\nc', 4)).toBe(4);
  });
});
