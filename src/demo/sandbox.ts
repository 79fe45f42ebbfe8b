// The demo sandbox of `cockpit demo`: a throwaway git repository of a small "Property" application (a
// property-listing web app with a JavaScript frontend and a Python backend), with a history of conventional
// commits, a past release tag, `main` and `develop`, a bare `origin` inside the sandbox, and the demo checklist.
//
// It is made in one go from a `git fast-import` stream (five git processes in all), with fixed authors, dates
// anchored to the current UTC day, and without reading the user's git configuration.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FailedError, UsageError } from '../core/errors.js';
import { packageRoot } from '../paths.js';
import { ANA, DEVELOP, HISTORY, RELEASED, Tree } from './history.js';

export { demoDir } from './mode.js';

/** Where the sandbox's bare `origin` repository lives: inside the sandbox, so `--reset` removes it too. */
export const ORIGIN_DIR = path.join('.sandbox', 'origin.git');

/**
 * Where the sandbox's blue/green target lives (src/demo/bluegreen, bundled as dist/demo-app.js and
 * dist/demo-deploy.js, copied as .mjs): scripts/deploy.sh runs the driver from here. Ignored by git, like the origin.
 */
export const BLUEGREEN_DIR = path.join('.sandbox', 'bluegreen');
const BLUEGREEN_FILES = ['demo-app.js', 'demo-deploy.js'];

/**
 * Stops what the sandbox's deploy script started (the apps and HAProxy of each environment it deployed), by the
 * pids in its state. Done before `--reset` removes the sandbox, so no process is left behind without its state.
 */
export function stopSandboxTargets(dir: string): void {
  const driver = path.join(dir, BLUEGREEN_DIR, 'demo-deploy.mjs');
  if (!existsSync(driver)) return;
  for (const env of deployedEnvironments(dir))
    spawnSync(process.execPath, [driver, 'stop', '--env', env], { cwd: dir, stdio: 'ignore', timeout: 60_000 });
}

/** The environments the sandbox's deploy script has deployed to (they have its state; their processes may run). */
export function deployedEnvironments(dir: string): string[] {
  const states = path.join(dir, '.cockpit', 'bluegreen');
  if (!existsSync(states)) return [];
  return readdirSync(states).filter((env) => existsSync(path.join(states, env, 'state.json')));
}

/** The environments whose deploy-script state still names processes (an app or HAProxy), running or not. */
export function environmentsWithProcesses(dir: string): string[] {
  return deployedEnvironments(dir).filter((env) => {
    try {
      const st = JSON.parse(readFileSync(path.join(dir, '.cockpit', 'bluegreen', env, 'state.json'), 'utf8')) as {
        proxy?: unknown;
        colours?: Record<string, unknown>;
      };
      return !!st.proxy || Object.keys(st.colours ?? {}).length > 0;
    } catch {
      return true; // unreadable: let its own stop look
    }
  });
}

/**
 * Is `dir` a sandbox the demo made: a git work tree with the sandbox's own bare origin in `.sandbox/origin.git`
 * (which no repository of the user's has). Only such a folder is ever reused, reset (removed) or stopped by the demo.
 */
export function isSandbox(dir: string): boolean {
  return existsSync(path.join(dir, '.git')) && existsSync(path.join(dir, ORIGIN_DIR, 'HEAD'));
}

/**
 * Refuses a `--dir` that holds something other than a demo sandbox: the demo would write its files and config into
 * it, run its scripts and, with `--reset`, remove the whole folder. Missing, empty or a sandbox: fine.
 */
export function checkSandboxDir(dir: string, reset: boolean): void {
  dir = path.resolve(dir);
  // HAProxy's configuration and runtime commands and PostgreSQL's options name files in the sandbox by their path:
  // one with a blank, a quote, a backslash or a $ breaks them halfway through the start (said now instead).
  // A control character would also reach the terminal in the commands the demo prints (its story line, --stop).
  const odd = /[\s'"\\$`\x00-\x1f\x7f]/.exec(dir);
  if (odd)
    throw new UsageError(
      `the demo's sandbox path may not contain ${odd[0] === ' ' ? 'a space' : /[\x00-\x1f\x7f]/.test(odd[0]) ? 'a control character (a line break, a tab, an escape)' : /\s/.test(odd[0]) ? 'a blank' : `the character ${odd[0]}`} (its HAProxy and PostgreSQL configuration name files by it): ${JSON.stringify(dir)}; choose another --dir`,
    );
  let st;
  try {
    st = statSync(dir); // a symbolic link to a sandbox is that sandbox (--reset removes the link, not its target)
  } catch {
    return; // not there: made now
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    // The demo runs the sandbox's scripts and signals the processes its record names: never someone else's.
    throw new UsageError(
      `${dir} belongs to user ${st.uid}, not to you (${uid}): the demo runs only in a sandbox of your own; choose another --dir`,
    );
  if (st.isDirectory() && (isSandbox(dir) || readdirSync(dir).length === 0)) return;
  const what = !st.isDirectory()
    ? 'is not a folder'
    : existsSync(path.join(dir, '.git'))
      ? 'is a git repository that the demo did not make (it has no .sandbox/origin.git)'
      : 'is a folder that is not a demo sandbox';
  throw new UsageError(
    `${dir} ${what}: ${reset ? '--reset removes only a sandbox the demo made, and left it untouched' : 'the demo uses only a sandbox it made'}; choose another --dir (a new or empty folder)`,
  );
}

/**
 * Make the sandbox repository if it is not there (or anew with `reset`). True when it was made now.
 * It is built beside `dir` and renamed into place, so a sandbox that exists is a whole one.
 */
export function ensureSandbox(dir: string, reset: boolean): boolean {
  dir = path.resolve(dir);
  checkSandboxDir(dir, reset);
  if (reset) {
    stopSandboxTargets(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  if (existsSync(path.join(dir, '.git'))) return false;
  mkdirSync(path.dirname(dir), { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    buildSandbox(partial, dir);
    // An empty folder left there goes (never more: a second cockpit demo started at the same moment may have put its
    // whole sandbox there since, and that one is used then).
    try {
      rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !isSandbox(dir)) throw e;
    }
    try {
      renameSync(partial, dir);
    } catch (e) {
      if (isSandbox(dir)) return false;
      throw e;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Building

/** git, with nothing from the user's or the system's git configuration and nothing from a surrounding repository. */
function git(cwd: string, args: string[], input?: string): void {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Demo',
    GIT_AUTHOR_EMAIL: 'demo@property.example',
    GIT_COMMITTER_NAME: 'Demo',
    GIT_COMMITTER_EMAIL: 'demo@property.example',
  });
  try {
    execFileSync('git', args, { cwd, env, input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new FailedError('the demo sandbox needs git, and git was not found on the PATH');
    const why = err.stderr?.toString().trim() || err.message;
    throw new FailedError(`could not make the demo sandbox: git ${args[0]}: ${why}`);
  }
}

/** A value for .git/config, quoted (paths may hold spaces, `#` or `;`). */
function configValue(s: string): string {
  if (/[\n\r]/.test(s)) throw new UsageError(`the demo sandbox path may not contain a line break: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function buildSandbox(at: string, finalDir: string): void {
  const stream = fastImportStream(Math.floor(Date.now() / 86_400_000) * 86_400);
  const origin = path.join(at, ORIGIN_DIR);
  mkdirSync(origin, { recursive: true });
  git(origin, ['init', '-q', '--bare', '-b', 'main']);
  git(origin, ['fast-import', '--quiet', '--done'], stream.origin);
  git(at, ['init', '-q', '-b', 'main']);
  git(at, ['fast-import', '--quiet', '--done'], stream.work);
  // The work tree's remote is the bare repository where the sandbox will be (it is built elsewhere, then renamed).
  appendFileSync(
    path.join(at, '.git', 'config'),
    [
      '[core]',
      '\tautocrlf = false',
      '[remote "origin"]',
      `\turl = ${configValue(path.join(finalDir, ORIGIN_DIR))}`,
      '\tfetch = +refs/heads/*:refs/remotes/origin/*',
      '[branch "main"]',
      '\tremote = origin',
      '\tmerge = refs/heads/main',
      '[branch "develop"]',
      '\tremote = origin',
      '\tmerge = refs/heads/develop',
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(at, '.git', 'refs', 'remotes', 'origin'), { recursive: true });
  writeFileSync(path.join(at, '.git', 'refs', 'remotes', 'origin', 'HEAD'), 'ref: refs/remotes/origin/main\n');
  git(at, ['reset', '-q', '--hard']); // HEAD is main: fills the index and the work tree
  // The blue/green target scripts/deploy.sh drives: the bundles from the cockpit's dist/.
  const dist = path.join(packageRoot(), 'dist');
  const target = path.join(at, BLUEGREEN_DIR);
  mkdirSync(target, { recursive: true });
  for (const f of BLUEGREEN_FILES) {
    if (!existsSync(path.join(dist, f))) throw new FailedError(`the cockpit's ${f} is missing from ${dist}: build it with npm run build`);
    // As .mjs: ES modules, and the sandbox has no package.json saying so.
    copyFileSync(path.join(dist, f), path.join(target, f.replace(/\.js$/, '.mjs')));
  }
}

/**
 * The history as `git fast-import` input: main (HISTORY, tagged at the release commit), develop (main + DEVELOP).
 * `day0` is the start of the current UTC day (seconds): every date is before it, so all are in the past, and the
 * same day gives the same commits. `work` also sets the work tree's remote-tracking branches.
 */
function fastImportStream(day0: number): { origin: string; work: string } {
  const out: string[] = [];
  const data = (s: string) => out.push(`data ${Buffer.byteLength(s)}\n${s}\n`);
  const tree = new Tree();
  let prev = new Map<string, string>();
  let mark = 0;
  let releaseMark = 0;
  let releaseWhen = '';
  const all = [...HISTORY.map((c) => ({ c, ref: 'refs/heads/main' })), ...DEVELOP.map((c) => ({ c, ref: 'refs/heads/develop' }))];
  all.forEach(({ c, ref }, i) => {
    // Oldest first, about two commits every three days, during working hours; the last one the day before today.
    const daysAgo = Math.round((all.length - i) * 1.6);
    const when = day0 - daysAgo * 86_400 + 8 * 3600 + ((i * 137) % 540) * 60;
    tree.today = new Date(when * 1000).toISOString().slice(0, 10);
    c.change(tree);
    const files = tree.render();
    const who = `${c.author.name} <${c.author.email}> ${when} ${c.author.tz}`;
    out.push(`commit ${ref}\nmark :${++mark}\nauthor ${who}\ncommitter ${who}\n`);
    data(c.body ? `${c.subject}\n\n${c.body}\n` : `${c.subject}\n`);
    if (mark > 1) out.push(`from :${mark - 1}\n`);
    for (const [file, text] of files) {
      if (prev.get(file) === text) continue;
      out.push(`M ${file.endsWith('.sh') ? '100755' : '100644'} inline ${file}\n`);
      data(text);
    }
    for (const file of prev.keys()) if (!files.has(file)) out.push(`D ${file}\n`);
    out.push('\n');
    prev = files;
    if (c.subject === RELEASED.subject) {
      releaseMark = mark;
      releaseWhen = `${ANA.name} <${ANA.email}> ${when + 1200} ${ANA.tz}`;
    }
  });
  out.push(`tag ${RELEASED.tag}\nfrom :${releaseMark}\ntagger ${releaseWhen}\n`);
  data(`Property ${RELEASED.tag.slice(1)}\n`);
  const origin = out.join('') + 'done\n';
  const mainTip = HISTORY.length;
  const work =
    out.join('') + `reset refs/remotes/origin/main\nfrom :${mainTip}\n\nreset refs/remotes/origin/develop\nfrom :${mark}\n\ndone\n`;
  return { origin, work };
}
