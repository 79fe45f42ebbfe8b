/**
 * Detached SSH signatures over a text (`ssh-keygen -Y sign` / `-Y verify`), the same tool git uses for the audit
 * anchors' signed commits (adapters/anchor.ts). Used for approvals: the approver signs what they approve, the step
 * and `audit verify` check it against an allowed-signers file for the approver's address.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-sig-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const said = (r: ReturnType<typeof spawnSync>): string =>
  `${String(r.stderr ?? '')}${String(r.stdout ?? '')}`.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

/** Sign `text` with the SSH private key `keyFile` in `namespace`: the armoured signature, or why not. */
export function sshSign(keyFile: string, namespace: string, text: string): { signature: string } | { error: string } {
  return withTemp((dir) => {
    const file = path.join(dir, 'payload');
    writeFileSync(file, text);
    // No terminal to ask on: a key with a passphrase needs an agent (SSH_AUTH_SOCK), as for git's signed commits.
    const r = spawnSync('ssh-keygen', ['-Y', 'sign', '-f', keyFile, '-n', namespace, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
      env: { ...process.env, SSH_ASKPASS: 'true', SSH_ASKPASS_REQUIRE: 'force' },
    });
    if (r.error) return { error: `ssh-keygen could not run (${r.error.message})` };
    if (r.status !== 0) return { error: `ssh-keygen -Y sign failed: ${said(r) || `exit ${r.status}`}` };
    try {
      return { signature: readFileSync(`${file}.sig`, 'utf8') };
    } catch (e) {
      return { error: `ssh-keygen wrote no signature (${(e as Error).message})` };
    }
  });
}

/**
 * Whether `signature` is a good signature of `text` in `namespace` by a key that `allowedSigners` lists for
 * `principal`: ok with ssh-keygen's words ("Good "cockpit-approval" signature for alice@… with ED25519 key SHA256:…"),
 * or why not.
 */
export function sshVerify(
  allowedSigners: string,
  principal: string,
  namespace: string,
  text: string,
  signature: string,
): { ok: boolean; detail: string } {
  return withTemp((dir) => {
    const sig = path.join(dir, 'payload.sig');
    writeFileSync(sig, signature);
    const r = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowedSigners, '-I', principal, '-n', namespace, '-s', sig], {
      input: text,
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (r.error) return { ok: false, detail: `ssh-keygen could not run (${r.error.message})` };
    return { ok: r.status === 0, detail: said(r) || `ssh-keygen -Y verify exited ${r.status}` };
  });
}
