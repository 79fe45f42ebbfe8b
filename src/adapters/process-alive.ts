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
