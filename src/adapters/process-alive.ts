import { readFileSync } from 'node:fs';

/**
 * Whether a process is alive, without node:child_process (shell.ts, which runs commands, loads it): the home
 * screen's session list asks it of every lock before its first frame (docs/architecture.md §6).
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isProcessAlive(pid: number): boolean {
  return pid > 0 && alive(pid);
}

/** /proc/<pid>/stat's fields after the name (which is in parentheses and may hold spaces), or null without /proc. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The kernel's start time of a process (clock ticks since boot), to tell a pid from a reused one. Linux only. */
export function processStartTime(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[19]) : null;
}

/** {@link processStartTime} as the string a record keeps, or undefined without /proc. */
export function startTimeOf(pid: number): string | undefined {
  const t = processStartTime(pid);
  return t === null || Number.isNaN(t) ? undefined : String(t);
}

/**
 * The pid runs: alive and not a zombie (a process whose parent died is reparented to PID 1, which in some containers
 * never reaps it: it answers signal 0 but runs nothing). Without /proc, the pid answering is all that can be known.
 */
export function processRuns(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  const f = statFields(pid);
  return f === null || f[0] !== 'Z';
}
