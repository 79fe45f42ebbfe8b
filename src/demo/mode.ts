/**
 * Whether the cockpit shows the demo's sandbox: `cockpit demo` marks the sandbox it opens (an environment variable
 * holding its path), and only a repository at that path, which has the sandbox's own `.sandbox/` folder, is the
 * demo there. Then the home screen tells the demo's story (./story.ts) and `A` on a waiting approval approves as
 * the demo's senior developer (./approver.ts). A real repository is never the demo: nothing in it turns this on.
 * Light (node builtins only): the home screen's start-up loads it.
 */
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cockpitCommand } from '../core/command-line.js';

export const DEMO_SANDBOX_ENV = 'COCKPIT_DEMO_SANDBOX';

/** The demo's second person: the senior developer of the sandbox's `approvers:` (history.ts commits as him too). */
export const DEMO_SENIOR = { name: 'Ben Okafor', email: 'ben@property.example' };

/** Said by `cockpit demo` before it opens the screens on the sandbox in `dir`. */
export function markDemoSandbox(dir: string): void {
  process.env[DEMO_SANDBOX_ENV] = path.resolve(dir);
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** Is `repoDir` the sandbox `cockpit demo` opened in this process (or its parent)? */
export function isDemoSandbox(repoDir: string, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const marked = env[DEMO_SANDBOX_ENV];
  if (!marked) return false;
  return real(marked) === real(repoDir) && existsSync(path.join(repoDir, '.sandbox', 'origin.git'));
}

/** Where the demo's sandbox is: `--dir`, else $COCKPIT_DEMO_DIR, else ~/.cache/release-cockpit/demo. */
export function demoDir(explicit?: string): string {
  return path.resolve(explicit ?? process.env.COCKPIT_DEMO_DIR ?? path.join(os.homedir(), '.cache', 'release-cockpit', 'demo'));
}

/** `npx cockpit demo --messages` for the sandbox in `dir` (with --dir when it is not the default one). */
export function demoMessagesCommand(dir: string): string {
  const args = ['demo', '--messages', ...(real(demoDir()) === real(dir) ? [] : ['--dir', dir])];
  return cockpitCommand(args, { program: 'npx cockpit', repoDir: dir, elsewhere: false });
}
