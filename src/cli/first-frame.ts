/**
 * The home screen's first frame, drawn before React, Ink and SQLite are loaded (docs/architecture.md §6).
 *
 * The frame is the exact bytes Ink wrote for the home screen's first frame at an earlier start, kept with what they
 * were drawn from: the signature (inode, size, mtime, ctime) of every file the home screen read — the audit log and
 * its WAL, the config, the checklists and their folders, the `.git` markers that chose the repository — and the
 * time until which every time-dependent text on it ("5m ago", the release calendar) stays the same. A start with the
 * same command line, folder, environment, terminal size and build, whose files all still have those signatures,
 * within that time, would draw the same bytes: they are written at once. Anything else (no cache, a changed file, a
 * running session, a PostgreSQL audit log) draws nothing here, and the screen comes up the normal way.
 *
 * Ink then takes over the screen: its writes are compared with the bytes already on it and dropped while they are the
 * same; at the first difference the frame is wiped and Ink's bytes written instead, so after the hand-over the screen
 * is exactly Ink's frame either way. Keys typed meanwhile are kept: the terminal is put in raw mode with the frame
 * (no echo, no line editing), and Ink reads them from stdin when it starts.
 *
 * Only node builtins here: this module is all the first frame loads after the argument parser.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { cockpitVersion } from '../version.js';

/** Where the cockpit keeps what it can always make again: $XDG_CACHE_HOME/release-cockpit, else ~/.cache/release-cockpit. */
export function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'release-cockpit');
}

const ALT_SCREEN_ON = '\u001b[?1049h\u001b[H';
const BSU = '\u001b[?2026h';
/**
 * What Ink writes for a frame: text, newlines, and CSI sequences for style, cursor movement, erasing, the cursor's
 * visibility and synchronized output. A kept frame holding anything else (a title, a hyperlink, a device query: not
 * Ink's) is not written, whoever put it there.
 */
const INK_FRAME = /^(?:[^\u0000-\u001f\u007f-\u009f]|\r|\n|\u001b\[[0-9;?]*[mhlABCDEFGHJK])*$/u;
/** Frames kept (one per folder, command line, terminal size…): the oldest goes first. */
const KEEP = 8;
/**
 * Variables that differ between two starts (another shell, pane, window or SSH connection) without changing what the
 * cockpit shows. Every other variable is part of the key: one the cockpit does not read only costs a first frame.
 */
const VOLATILE_ENV =
  /^(_|OLDPWD|SHLVL|TMUX|TMUX_PANE|STY|WINDOW|WINDOWID|TERM_SESSION_ID|ITERM_SESSION_ID|WT_SESSION|KITTY_WINDOW_ID|ALACRITTY_WINDOW_ID|GPG_TTY|SSH_CLIENT|SSH_CONNECTION|SSH_TTY|SSH_AUTH_SOCK|XDG_SESSION_ID)$/;

/** What a file looks like now: enough to tell that it changed, appeared or went. */
export function fileSignature(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return '-';
  }
}

/** The files a frame was drawn from, with their signatures taken before they were read. */
export type Inputs = Array<[file: string, signature: string]>;

export const signatures = (files: string[]): Inputs => [...new Set(files)].map((f) => [f, fileSignature(f)]);

interface Entry {
  inputs: Inputs;
  /** The frame is as Ink would draw it from this time (ms)… */
  from: number;
  /** …until this one. */
  until: number;
  bytes: string;
  used: number;
}
type CacheFile = { entries: Record<string, Entry> };

export interface FirstFrame {
  /** Same start, same frame: the command line, folder, environment, terminal size and build. */
  key: string;
  /** Whether Ink draws on the alternate screen (not with COCKPIT_EXIT_WHEN_READY). */
  altScreen: boolean;
  /** The bytes already on the screen, or null when nothing was drawn. */
  drawn: string | null;
}

const cacheFile = () => path.join(cacheDir(), 'home-frames.json');

function readCache(): CacheFile {
  try {
    const c = JSON.parse(readFileSync(cacheFile(), 'utf8')) as CacheFile;
    if (c && typeof c.entries === 'object' && c.entries) return c;
  } catch {
    // None yet, or unreadable: no first frame.
  }
  return { entries: {} };
}

/** Draw the home screen's last first frame at once when nothing it was drawn from has changed since. */
export function drawFirstFrame(argv: string[], altScreen: boolean): FirstFrame | null {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return null;
  const env = Object.entries(process.env)
    .filter(([k]) => !VOLATILE_ENV.test(k))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const build = fileSignature(path.join(packageRoot(), 'dist'));
  const key = createHash('sha1')
    .update(JSON.stringify([cockpitVersion(), build, process.cwd(), argv, process.stdout.columns, process.stdout.rows, env]))
    .digest('hex');
  const frame: FirstFrame = { key, altScreen, drawn: null };
  const entry = readCache().entries[key];
  const now = Date.now();
  if (!entry || !(now >= entry.from && now < entry.until)) return frame;
  if (!entry.inputs.every(([file, sig]) => fileSignature(file) === sig)) return frame;
  if (typeof entry.bytes !== 'string' || !INK_FRAME.test(entry.bytes)) return frame;
  // Raw before the frame: a key typed from now on is neither echoed over it nor held for a line; Ink reads it.
  process.stdin.setRawMode(true);
  process.stdout.write((altScreen ? ALT_SCREEN_ON : '') + entry.bytes);
  frame.drawn = entry.bytes;
  return frame;
}

/**
 * Write one of the cockpit's cache files whole (beside it, then renamed: a reader finds the old one or the new one),
 * the operator's own (0600 in a 0700 folder: what the home screen shows — sessions, operators, parameters — is not
 * for other users). A failed write is ignored: a cache is only a shortcut, the next start is slower, that is all.
 */
export function writeCacheFile(file: string, value: unknown): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A read-only home.
  }
}

/** Remember Ink's first frame for the next start. */
export function keepFirstFrame(key: string, entry: Omit<Entry, 'used'>): void {
  const cache = readCache();
  cache.entries[key] = { ...entry, used: Date.now() };
  const keys = Object.keys(cache.entries).sort((a, b) => cache.entries[b].used - cache.entries[a].used);
  for (const k of keys.slice(KEEP)) delete cache.entries[k];
  writeCacheFile(cacheFile(), cache);
}

type Write = (...a: unknown[]) => boolean;
const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));

/**
 * Put `wrap` in front of stdout's writes until the returned function is called. Wrappers nest: one ended while
 * another is in front of it steps aside (passes everything on) instead of taking the other one out.
 */
function interceptStdout(wrap: (s: string, rest: unknown[], pass: (s: string, rest: unknown[]) => boolean) => boolean): () => void {
  const out = process.stdout;
  const write = out.write as Write;
  let on = true;
  const pass = (s: string, rest: unknown[]) => write.call(out, s, ...rest);
  const mine = function (chunk: unknown, ...rest: unknown[]) {
    return on ? wrap(text(chunk), rest, pass) : write.call(out, chunk, ...rest);
  } as typeof out.write;
  out.write = mine;
  return () => {
    on = false;
    if (out.write === mine) out.write = write as typeof out.write;
  };
}

/** Record what is written to stdout (it is still written) until `stop()`, which returns it. */
export function recordStdout(): () => string {
  const seen: string[] = [];
  const end = interceptStdout((s, rest, pass) => {
    seen.push(s);
    return pass(s, rest);
  });
  return () => {
    end();
    return seen.join('');
  };
}

/**
 * Hand the screen over to Ink: its writes that repeat the frame already drawn are dropped; at the first that differs,
 * the drawn frame is wiped (back to where it began) and Ink's bytes so far are written in its place. Returns a
 * function that ends the hand-over (Ink wrote less than the drawn frame: what is on screen is still what it wrote).
 */
export function handOver(drawn: string, altScreen: boolean): () => void {
  let matched = 0;
  const end = interceptStdout((s, rest, pass) => {
    const left = drawn.slice(matched);
    if (left.startsWith(s)) {
      matched += s.length;
      if (matched === drawn.length) end();
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) process.nextTick(done);
      return true;
    }
    end();
    if (s.startsWith(left)) return s.length > left.length ? pass(s.slice(left.length), rest) : true;
    const lines = drawn.split('\n').length - 1;
    const back = altScreen ? '\u001b[H' : `${lines ? `\u001b[${lines}A` : ''}\r`;
    const body = drawn.slice(0, matched) + s;
    // Inside Ink's synchronized update when it opened one: the terminal shows the wipe and the new frame at once.
    const sync = body.startsWith(BSU) ? BSU : '';
    return pass(`${sync}${back}\u001b[J${body.slice(sync.length)}`, rest);
  });
  return end;
}

/** Take a drawn frame off the screen again (the cockpit stopped before Ink took it over). */
export function undraw(frame: FirstFrame): void {
  if (!frame.drawn) return;
  const lines = frame.drawn.split('\n').length - 1;
  process.stdout.write(`${frame.altScreen ? '\u001b[?1049l' : `${lines ? `\u001b[${lines}A` : ''}\r\u001b[J`}\u001b[?25h`);
  frame.drawn = null;
}

/**
 * How long a text that depends on the time stays the same: the first time after `from` (up to `limit` ms later) at
 * which `text` differs from `text(from)`, found by bisection (the texts here change once and stay changed: "5m ago",
 * then "6m ago").
 */
export function sameUntil(text: (now: number) => string, from: number, limit = 24 * 3600_000): number {
  const at = text(from);
  if (text(from + limit) === at) return from + limit;
  let lo = from;
  let hi = from + limit;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (text(mid) === at) lo = mid;
    else hi = mid;
  }
  return hi;
}
