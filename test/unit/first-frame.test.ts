import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSignature, sameUntil, signatures } from '../../src/cli/first-frame.js';
import { ago } from '../../src/tui/text.js';

// The two things that decide whether a kept first frame may be drawn: its files unchanged, its times still reading
// the same (src/cli/first-frame.ts). The frame itself, drawn and handed over to Ink, is tested in a real terminal
// (test/integration/first-frame-terminal.test.ts).

describe('how long a time on the home screen reads the same (sameUntil)', () => {
  const start = Date.UTC(2026, 0, 7, 10, 0, 0);

  it.each([
    ['seconds', 12_345],
    ['minutes', 17 * 60_000 + 5_000],
    ['hours', 3 * 3600_000 + 12 * 60_000],
    ['days', 3 * 86400_000 + 5 * 3600_000],
  ])("finds the exact millisecond a session's '… ago' changes (%s)", (_unit, since) => {
    const text = (t: number) => ago(t - start);
    const now = start + since;
    const until = sameUntil(text, now);
    expect(until).toBeGreaterThan(now);
    expect(text(until - 1)).toBe(text(now));
    expect(text(until)).not.toBe(text(now));
  });

  it('every text of the frame counts: the soonest change ends it', () => {
    const a = start - 3 * 3600_000;
    const b = start - 20_000;
    const both = (t: number) => `${ago(t - a)}|${ago(t - b)}`;
    expect(sameUntil(both, start)).toBe(
      Math.min(
        sameUntil((t) => ago(t - a), start),
        sameUntil((t) => ago(t - b), start),
      ),
    );
  });
});

describe('the signature of a file the frame was drawn from', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('changes when the file is written (even to the same size), touched, created or removed', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-first-frame-'));
    const file = path.join(dir, 'audit.db');
    const [[, missing]] = signatures([file]);
    writeFileSync(file, 'aaaa');
    const written = fileSignature(file);
    expect(written).not.toBe(missing);
    utimesSync(file, new Date(Date.now() + 5_000), new Date(Date.now() + 5_000));
    const touched = fileSignature(file);
    expect(touched).not.toBe(written);
    writeFileSync(file, 'bbbb');
    expect(fileSignature(file)).not.toBe(touched);
    rmSync(file);
    expect(fileSignature(file)).toBe(missing);
  });
});
