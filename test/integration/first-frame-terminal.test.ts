import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, ROOT, tempRepo } from '../helpers/cli.js';
import { frameProblem, rows, Tmux } from '../helpers/tmux.js';

// The home screen's first frame drawn before Ink loads, in a real terminal: the kept frame (src/cli/first-frame.ts) or,
// without one, the plain frame drawn from home's data (src/cli/plain-home.ts). The screen after Ink takes over is
// exactly the one Ink draws alone, and a key typed before Ink is up is acted on.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

/** Holds Ink's chunk back until a file exists (a loader hook). */
const HOLD_INK = path.join(ROOT, 'test', 'helpers', 'hold-ink.mjs');
const W = 80;
const H = 24;
const checklist = (id: string, title: string) =>
  `id: ${id}\ntitle: ${title}\nsteps:\n  - id: hello\n    title: Say hello\n    kind: run\n    run: echo hello\n`;

describe.skipIf(!tmuxOk.ok)(`the first frame before Ink, in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let env: Record<string, string>;
  let cacheFile: string;
  const terms: Tmux[] = [];

  beforeEach(() => {
    repo = tempRepo({ alpha: checklist('alpha', 'Alpha checklist'), beta: checklist('beta', 'Beta checklist') });
    env = { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: repo.dir, XDG_CACHE_HOME: path.join(repo.dir, 'cache') };
    cacheFile = path.join(repo.dir, 'cache', 'release-cockpit', 'home-frames.json');
    // Two finished sessions, dated hours back (as the sessions an operator finds usually are): "3h ago" reads the
    // same for a while, so the frame kept from one start can be drawn at the next.
    for (const id of ['alpha', 'beta']) {
      const r = cockpit(['run', id, '--non-interactive', '--yes', 'all'], { cwd: repo.dir, env });
      expect(r.code, r.stderr).toBe(0);
    }
    const db = new Database(path.join(repo.dir, '.cockpit', 'audit.db'));
    db.prepare('UPDATE sessions SET started_at = started_at - ?, ended_at = ended_at - ?').run(3 * 3600_000, 3 * 3600_000);
    db.close();
  });
  afterEach(() => {
    for (const t of terms.splice(0)) t.kill();
    repo.cleanup();
  });

  /**
   * `cockpit` (the home screen) in an 80x24 pane, everything the program writes logged (tmux pipe-pane, set up while
   * the shell waits a moment before starting it); `j` is typed at once when `typeAhead`, before the cockpit is even
   * running. Returns the settled home screen (after `j` when typed ahead) and the log.
   */
  async function start(typeAhead: boolean, sessions = 2): Promise<{ term: Tmux; screen: string; log: () => string }> {
    const log = path.join(repo.dir, `pane-${terms.length}.log`);
    const term = new Tmux(`sleep 0.3; ${process.execPath} ${BIN}`, { cwd: repo.dir, env, width: W, height: H });
    terms.push(term);
    execFileSync('tmux', ['-L', term.name, 'pipe-pane', '-t', term.name, '-o', `cat > ${log}`]);
    if (typeAhead) term.type('j');
    const home = (s: string) => s.includes(' Checklists (') && s.includes(`Sessions (${sessions}`);
    let screen = await term.settled(await term.waitFor(home, 'the home screen'));
    if (typeAhead) screen = await term.settled(await term.waitFor((s) => home(s) && selectedRow(s) === 1, 'the second session selected'));
    expect(frameProblem(screen, W, H), screen).toBeNull();
    return { term, screen, log: () => (existsSync(log) ? readFileSync(log, 'utf8') : '') };
  }

  /** Which session row (0, 1) is selected (›), -1 when none. */
  const selectedRow = (screen: string) =>
    rows(screen)
      .filter((l) => /^[› ][✔✖■?·⚠▶] \d{8}-/.test(l))
      .findIndex((l) => l.startsWith('›'));

  async function quit(term: Tmux): Promise<void> {
    term.type('q');
    expect(await term.waitForExit()).toBe(0);
  }

  it('draws the kept frame at once; after Ink takes over the screen is exactly the normal one, and a key typed ahead counts', async () => {
    // The first start: no frame kept, the normal way (Ink). `j` once it is up: the second session.
    const normal = await start(false);
    expect(selectedRow(normal.screen)).toBe(0);
    normal.term.type('j');
    const normalAfterJ = await normal.term.settled(await normal.term.waitFor((s) => selectedRow(s) === 1, 'j on the normal screen'));
    await quit(normal.term);
    expect(existsSync(cacheFile), 'the first start keeps its frame').toBe(true);

    // The second start: the kept frame is the first thing on the pane (entering the alternate screen, then Ink's bytes
    // as they were), `j` typed before the cockpit even ran.
    const kept = Object.values(JSON.parse(readFileSync(cacheFile, 'utf8')).entries as Record<string, { bytes: string }>);
    expect(kept).toHaveLength(1);
    const fast = await start(true);
    // (The pane's log reads the same whether the kept frame or Ink drew it: Ink's writes that repeat it are dropped.
    // The terminal sends each newline as CR LF.)
    expect(fast.log()).toContain(`\u001b[?1049h\u001b[H${kept[0].bytes.replace(/\n/g, '\r\n')}`);
    expect(fast.screen).toBe(normalAfterJ);
    await quit(fast.term);
  });

  it('without a kept frame, home is drawn from its data while Ink is still loading, in colour; a key typed then is answered once Ink is up, and Ink repeats the frame byte for byte', async () => {
    // In colour (the tests' NO_COLOR=1 off): chalk's colours are written by the plain frame and by Ink alike.
    env.NO_COLOR = '';
    expect(existsSync(cacheFile), 'no kept frame before this start').toBe(false);
    // Ink's chunk (Ink, React, yoga, the screens) is held back until `gate` exists (test/helpers/hold-ink.mjs).
    const gate = path.join(repo.dir, 'ink-may-load');
    const log = path.join(repo.dir, 'pane-plain.log');
    const term = new Tmux(`sleep 0.3; ${process.execPath} --import ${HOLD_INK} ${BIN}`, {
      cwd: repo.dir,
      env: { ...env, HOLD_INK_UNTIL: gate },
      width: W,
      height: H,
    });
    terms.push(term);
    execFileSync('tmux', ['-L', term.name, 'pipe-pane', '-t', term.name, '-o', `cat > ${log}`]);
    const home = (s: string) => s.includes(' Checklists (') && s.includes('Sessions (2');
    // The whole home screen, with Ink not loaded yet.
    const plain = await term.settled(await term.waitFor(home, 'the plain frame, Ink held back'));
    expect(frameProblem(plain, W, H), plain).toBeNull();
    expect(selectedRow(plain)).toBe(0);
    expect(plain).toContain(' HOME ');
    expect(plain).toContain('? help');
    // A key typed now waits (raw mode: not echoed over the frame), and nothing else is written meanwhile.
    term.type('j');
    await new Promise((r) => setTimeout(r, 400));
    expect(term.screen()).toBe(plain);
    writeFileSync(gate, '');
    const after = await term.settled(await term.waitFor((s) => home(s) && selectedRow(s) === 1, 'j answered once Ink is up'));
    await quit(term);
    // The pane's log from the cockpit's first byte: the alternate screen, then the frame between the
    // synchronized-update marks; Ink's first frame, the same bytes, was dropped, and nothing was wiped (the
    // hand-over's erase) before `j` moved the selection (Ink's next frame).
    const written = readFileSync(log, 'utf8');
    const out = written.slice(written.indexOf('\u001b[?1049h'));
    expect(out.startsWith('\u001b[?1049h\u001b[H\u001b[?2026h\u001b[?25l'), JSON.stringify(out.slice(0, 80))).toBe(true);
    expect(out).toContain('\u001b[32m✔');
    const first = out.slice(0, out.indexOf('\u001b[?2026l'));
    expect(first).toContain(' Checklists (');
    expect(out.split(' Checklists (').length - 1, 'the home frame and the one after j').toBe(2);
    expect(out).not.toContain('\u001b[H\u001b[J');

    // The same start with the plain frame turned off (COCKPIT_PLAIN_FRAME=0: Ink draws the first frame) has that
    // first frame, byte for byte, and ends on the same screen after `j`.
    env.COCKPIT_PLAIN_FRAME = '0';
    rmSync(path.dirname(cacheFile), { recursive: true, force: true });
    const ink = await start(true);
    const inkLog = ink.log().slice(ink.log().indexOf('\u001b[?1049h'));
    expect(inkLog.slice(0, inkLog.indexOf('\u001b[?2026l'))).toBe(first);
    expect(ink.screen).toBe(after);
    await quit(ink.term);
  });

  it('a drawn frame that differs from what Ink draws is wiped: no character of it stays', async () => {
    const normal = await start(false);
    await quit(normal.term);
    // The kept frame, altered as if it were drawn from something else (same files, so it is drawn): a longer title,
    // whose end Ink's row would not cover if it were only written over it.
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { bytes: string }> };
    const [entry] = Object.values(cache.entries);
    expect(entry.bytes).toContain('Alpha checklist');
    entry.bytes = entry.bytes.replace('Alpha checklist', 'Alpha checklist STALE STALE');
    writeFileSync(cacheFile, JSON.stringify(cache));

    const again = await start(false);
    expect(again.log()).toContain('STALE STALE');
    // The wipe itself, after the drawn frame and before Ink's: back to the frame's top, erase to the end.
    const wipeAt = () => again.log().indexOf('\u001b[H\u001b[J', again.log().indexOf('STALE STALE'));
    // Until Ink is up the drawn frame is on the screen; then Ink's, whole. (Here Ink's frame written below the drawn
    // one would scroll it out too, as the frame is rows-1 tall and ends with a newline; so the wipe is asserted in the
    // bytes as well: it keeps Ink's idea of the cursor right whatever the geometry.)
    again.screen = await again.term.settled(await again.term.waitFor((s) => !s.includes('STALE'), 'Ink to take the screen over'));
    expect(again.screen).toBe(normal.screen);
    expect(wipeAt()).toBeGreaterThan(-1);
    await quit(again.term);
  });

  it('a kept frame holding a sequence Ink never writes (a window title) is not written to the terminal', async () => {
    const normal = await start(false);
    await quit(normal.term);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { bytes: string }> };
    const [entry] = Object.values(cache.entries);
    entry.bytes = `\u001b]0;PLANTED TITLE\u0007${entry.bytes}`;
    writeFileSync(cacheFile, JSON.stringify(cache));
    const again = await start(false);
    expect(again.log()).not.toContain('PLANTED TITLE');
    expect(again.screen).toBe(normal.screen);
    await quit(again.term);
  });

  it('a change to what the home screen shows (a new session) is not drawn from the kept frame', async () => {
    const normal = await start(false);
    await quit(normal.term);
    const r = cockpit(['run', 'alpha', '--non-interactive', '--yes', 'all'], { cwd: repo.dir, env });
    expect(r.code, r.stderr).toBe(0);
    const kept = Object.values(JSON.parse(readFileSync(cacheFile, 'utf8')).entries as Record<string, { bytes: string }>)[0].bytes;
    const again = await start(false, 3);
    expect(again.log()).toContain('Sessions (3');
    expect(again.log()).not.toContain(kept.slice(0, 200));
    await quit(again.term);
  });
});
