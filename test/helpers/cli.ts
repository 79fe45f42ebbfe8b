import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'cockpit.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `cockpit …` as a user would (a real child process), without a terminal. */
export function cockpit(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string; timeout?: number } = {},
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cockpitAsync(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A throwaway repository folder (a real git repo) with the given checklists; removed by `cleanup`. */
export function tempRepo(checklists: Record<string, string> = {}): {
  dir: string;
  cleanup(): void;
  write(rel: string, text: string): string;
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-test-'));
  spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const write = (rel: string, text: string) => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  for (const [id, text] of Object.entries(checklists)) write(`checklists/${id}.yaml`, text);
  return { dir, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** JSON lines printed by `--json`. */
export function jsonLines(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
