/**
 * The demo's second person approving with one key: `A` on a session that waits in an approve step, in the demo's
 * sandbox only (./mode.ts). It runs what Ben would run in his own shell, `cockpit approve <session>`, as a process of
 * its own, with git's user.email set to Ben's for that process alone (GIT_CONFIG_COUNT: nothing is written to any
 * git configuration). So the decision goes through every rule a real one does (the role, not the operator, the
 * request still open) and the audit log records Ben as the approver.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { neutralize } from '../core/sanitize.js';
import { packageRoot } from '../paths.js';
import { DEMO_SANDBOX_ENV, DEMO_SENIOR } from './mode.js';

/** The environment of a process whose git says user.email is `email` (added after any config the environment gives). */
export function gitIdentityEnv(env: NodeJS.ProcessEnv, email: string, name: string): NodeJS.ProcessEnv {
  const n = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  return {
    ...env,
    GIT_CONFIG_COUNT: String(n + 2),
    [`GIT_CONFIG_KEY_${n}`]: 'user.email',
    [`GIT_CONFIG_VALUE_${n}`]: email,
    [`GIT_CONFIG_KEY_${n + 1}`]: 'user.name',
    [`GIT_CONFIG_VALUE_${n + 1}`]: name,
  };
}

export interface DemoApproval {
  ok: boolean;
  /** What `cockpit approve` said (its last line), neutralised. */
  text: string;
}

/** `cockpit approve <session> --repo <repoDir>` as the demo's senior developer; what it said. */
export function approveAsDemoSenior(repoDir: string, sessionId: string, timeoutMs = 60_000): Promise<DemoApproval> {
  const bin = path.join(packageRoot(), 'bin', 'cockpit.js');
  const env = gitIdentityEnv({ ...process.env }, DEMO_SENIOR.email, DEMO_SENIOR.name);
  // Ben's own shell is not the demo's screen.
  delete env[DEMO_SANDBOX_ENV];
  delete env.COCKPIT_OPERATOR;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [bin, '--repo', repoDir, 'approve', sessionId, '--note', 'approved in the demo with one key (A on the waiting screen)'],
      { cwd: repoDir, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', (e) => resolve({ ok: false, text: `could not run cockpit approve: ${e.message}` }));
    child.on('close', (code) => {
      const last =
        neutralize(out)
          .trim()
          .split('\n')
          .filter((l) => l.trim())
          .at(-1) ?? '';
      resolve({ ok: code === 0, text: last || `cockpit approve exited with code ${code}` });
    });
  });
}
