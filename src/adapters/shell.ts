import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { isProcessAlive, processStartTime } from './process-alive.js';

export interface ShellRequest {
  /** argv (no shell) … */
  argv?: string[];
  /** … or a script for /bin/sh -c, written by the checklist's author (parameters reach it only as env vars). */
  script?: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Called once the process exists, before the command runs: the command is held at a gate until the returned
   * promise resolves, so whatever it records (the pid, for a later resume to find) is durable before any effect.
   */
  onSpawn?(pid: number): void | Promise<void>;
  onOutput?(stream: 'stdout' | 'stderr', text: string): void;
}

export interface ShellResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** The command could not be started at all (ENOENT, EACCES, bad cwd). */
  spawnError?: string;
  durationMs: number;
}

/** Seconds between SIGTERM and SIGKILL when a step times out or is stopped. */
const KILL_GRACE_MS = 3000;
/** How long to wait for pipes after the command exited (a background child may hold them open). */
const PIPE_GRACE_MS = 500;

/** Exit status of the gate when it was never told to go (the cockpit died first). */
export const GATE_NOT_OPENED = 125;
const GATE = `IFS= read -r go <&3 || exit ${GATE_NOT_OPENED}; [ "$go" = go ] || exit ${GATE_NOT_OPENED}; exec 3<&-; exec "$@"`;

/** Environment every command gets: no prompt can wait for input that will never come. */
export const NON_INTERACTIVE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
  GIT_ASKPASS: 'true',
  SSH_ASKPASS: 'true',
  DEBIAN_FRONTEND: 'noninteractive',
};

export { isProcessAlive, processStartTime };

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Stop a process group left behind by a cockpit that died (SIGTERM, then SIGKILL). Only if the process at that
 * pid is the one that was started (same start time), so a reused pid is never killed.
 */
export async function stopOrphan(pid: number, startTime: number | null): Promise<boolean> {
  if (!isProcessAlive(pid) && !groupAlive(pid)) return false;
  if (startTime !== null && isProcessAlive(pid) && processStartTime(pid) !== startTime) return false;
  killGroup(pid, 'SIGTERM');
  const until = Date.now() + KILL_GRACE_MS;
  while (Date.now() < until && groupAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  return true;
}

/**
 * Processes of a process group that are still running (not zombies: where PID 1 does not reap, as in some
 * containers, killed processes linger as zombies and `kill(-pgid, 0)` still succeeds). Linux reads /proc;
 * elsewhere it falls back to signal 0.
 */
export function liveGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function groupAlive(pgid: number): boolean {
  return liveGroupMembers(pgid).length > 0;
}

/**
 * Run one command: stdin closed, its own process group (no controlling terminal to prompt on), output
 * streamed as it arrives (decoded as UTF-8 across chunk boundaries), a timeout that kills the whole group.
 */
export function runCommand(req: ShellRequest): Promise<ShellResult> {
  const started = Date.now();
  const target = req.argv ?? ['/bin/sh', '-c', req.script ?? ''];
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let exitInfo: { code: number | null; signal: string | null } | null = null;
    // The gate: a shell that waits for "go" on fd 3, then becomes the command (same pid, same process group).
    // If the cockpit dies before saying go, fd 3 closes and the command never starts.
    const child = spawn('/bin/sh', ['-c', GATE, 'cockpit-step', ...target], {
      cwd: req.cwd,
      env: { ...process.env, ...req.env, ...NON_INTERACTIVE_ENV },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const gate = child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
    gate.on?.('error', () => undefined);
    const finish = (r: Omit<ShellResult, 'durationMs' | 'timedOut' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // After a stop, the SIGKILL timer stays armed: a background child that ignores SIGTERM still dies.
      if (killTimer && child.pid && !groupAlive(child.pid)) clearTimeout(killTimer);
      req.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, timedOut, aborted, durationMs: Date.now() - started });
    };
    const stop = () => {
      if (!child.pid) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    const timer = req.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, req.timeoutMs)
      : undefined;
    req.signal?.addEventListener('abort', onAbort);
    if (req.signal?.aborted) onAbort();

    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      const s = child[stream]!;
      s.on('data', (buf: Buffer) => {
        const text = decoder.write(buf);
        if (text) req.onOutput?.(stream, text);
      });
      s.on('end', () => {
        const rest = decoder.end();
        if (rest) req.onOutput?.(stream, rest);
      });
    }
    child.on('spawn', () => {
      const pid = child.pid!;
      Promise.resolve(req.onSpawn?.(pid)).then(
        () => gate.end('go\n'),
        () => {
          gate.destroy();
          stop();
        },
      );
    });
    child.on('error', (err) => finish({ exitCode: null, signal: null, spawnError: `${err.message}` }));
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      // Stop waiting for pipes that a leftover background process keeps open.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        if (exitInfo) finish({ exitCode: exitInfo.code, signal: exitInfo.signal });
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code, signal) => finish({ exitCode: code, signal }));
  });
}
