/**
 * The environment's deploy script (README "Deploys: the deploy script contract"), run as recorded commands: each
 * call goes through the `run` service (its pid durable before it starts, its output shown live and kept in the
 * audit log, its process group killed on a stop), argv only, never a shell. A version reaches argv only once it is
 * valid semver; a colour only as blue or green.
 *
 *   deploy <version> --env E [--colour C]   status --env E --json   switch <colour> --env E   rollback <version> --env E
 *
 * `status --json` is parsed with zod (core/deploy/status.ts): output that does not fit is a failure naming the
 * script. The build command (`deploy.<env>.build`) gets the version as its last argument and says what it made on
 * stdout: `image: <ref>` and `digest: sha256:…`, or `artifact: <path>` (whose sha256 the cockpit computes itself).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { strategyOf, type DeployEnvironment } from '../core/deploy/config.js';
import { parseStatus, statusWords, type Colour, type DeployStatus } from '../core/deploy/status.js';
import { commandArgv, versionProblem } from '../core/deploy/command.js';
import type { ShellResult } from './shell.js';

/** The `run` service as the adapter uses it (engine/services.ts). */
export type RecordedRun = (req: {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  stdoutLine?: (line: string) => Array<{ stream: 'stdout' | 'stderr'; text: string }>;
}) => Promise<ShellResult>;

export const DEPLOY_TIMEOUT_MS = 30 * 60_000;
export const SWITCH_TIMEOUT_MS = 10 * 60_000;
export const STATUS_TIMEOUT_MS = 2 * 60_000;
export const BUILD_TIMEOUT_MS = 60 * 60_000;

export type ScriptResult =
  { ok: true } | { ok: false; reason: string; exitCode: number | null; aborted?: boolean; timedOut?: boolean; signal?: string | null };

export type StatusResult = { ok: true; status: DeployStatus } | Extract<ScriptResult, { ok: false }>;

export interface BuildProduct {
  image?: string;
  digest?: string;
  artifact?: string;
  sha256?: string;
}
export type BuildResult = ({ ok: true } & BuildProduct) | Extract<ScriptResult, { ok: false }>;

export interface DeployScriptOptions {
  run: RecordedRun;
  repoDir: string;
  /** Environment variables for the commands (the step's: COCKPIT_PARAM_*, the session's ids). */
  env: Record<string, string>;
  /** The environment's name (`--env`). */
  name: string;
  config: DeployEnvironment;
}

/** Whether a program is on the PATH (or, given with a '/', exists). */
function onPath(program: string, cwd: string): boolean {
  if (program.includes('/')) return existsSync(path.resolve(cwd, program));
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        return statSync(path.join(dir, program)).isFile();
      } catch {
        return false;
      }
    });
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const CONTAINER_TOOLS = new Set(['docker', 'podman', 'buildah', 'nerdctl']);
/** Tools that build through a daemon: installed is not enough, the daemon must answer. */
const DAEMON_TOOLS = new Set(['docker', 'nerdctl']);

export class DeployScript {
  readonly strategy: 'in-place' | 'blue-green';
  /** The script as argv (a command written as text is split at spaces: no shell). */
  readonly command: string[];

  constructor(private readonly o: DeployScriptOptions) {
    this.strategy = strategyOf(o.name, o.config);
    this.command = commandArgv(o.config.command);
  }

  /** The script's name in messages. */
  get label(): string {
    return this.command.join(' ');
  }

  private failure(r: ShellResult, what: string): Extract<ScriptResult, { ok: false }> {
    const base = { ok: false as const, exitCode: r.exitCode, signal: r.signal };
    if (r.aborted) return { ...base, aborted: true, reason: `${what}: stopped by the operator` };
    if (r.spawnError) return { ...base, reason: `could not run ${this.label}: ${r.spawnError}` };
    if (r.timedOut) return { ...base, timedOut: true, reason: `${what} timed out` };
    return {
      ...base,
      reason: `${what} exited with ${r.exitCode === null ? `signal ${r.signal ?? '?'}` : `code ${r.exitCode}`} (its output above says why)`,
    };
  }

  private async call(args: string[], timeoutMs: number, stdoutLine?: Parameters<RecordedRun>[0]['stdoutLine']): Promise<ScriptResult> {
    const r = await this.o.run({
      argv: [...this.command, ...args],
      cwd: this.o.repoDir,
      env: this.o.env,
      timeoutMs,
      ...(stdoutLine ? { stdoutLine } : {}),
    });
    if (r.exitCode === 0 && !r.aborted && !r.timedOut && !r.spawnError) return { ok: true };
    return this.failure(r, `${this.label} ${args[0]}`);
  }

  /** `status --env E --json`, parsed; garbage, or an exit other than 0, is a failure naming the script. */
  async status(): Promise<StatusResult> {
    const lines: string[] = [];
    const r = await this.call(['status', '--env', this.o.name, '--json'], STATUS_TIMEOUT_MS, (line) => {
      lines.push(line);
      // The JSON line is kept in words; anything else the script says is kept as said.
      const one = line.trim().startsWith('{') ? parseStatus(line, this.strategy) : null;
      if (one?.ok) return [{ stream: 'stdout', text: `status: ${statusWords(this.o.name, one.status)}\n` }];
      return line.trim() ? [{ stream: 'stdout', text: `${line}\n` }] : [];
    });
    if (!r.ok) return r;
    const parsed = parseStatus(lines.join('\n'), this.strategy);
    if (!parsed.ok)
      return {
        ok: false,
        exitCode: 0,
        reason: `${this.label} status --env ${this.o.name} --json did not give a ${this.strategy} status: ${parsed.problem}`,
      };
    return parsed;
  }

  /** blue-green: `deploy <v> --env E --colour C`; in-place: `deploy <v> --env E`. */
  deploy(version: string, colour: Colour | null): Promise<ScriptResult> {
    return this.checked(version, () =>
      this.call(['deploy', version, '--env', this.o.name, ...(colour ? ['--colour', colour] : [])], DEPLOY_TIMEOUT_MS),
    );
  }

  switch(colour: Colour): Promise<ScriptResult> {
    return this.call(['switch', colour, '--env', this.o.name], SWITCH_TIMEOUT_MS);
  }

  rollback(version: string): Promise<ScriptResult> {
    return this.checked(version, () => this.call(['rollback', version, '--env', this.o.name], DEPLOY_TIMEOUT_MS));
  }

  private async checked(version: string, go: () => Promise<ScriptResult>): Promise<ScriptResult> {
    const problem = versionProblem(version);
    return problem ? { ok: false, exitCode: null, reason: `not run: ${problem}` } : go();
  }

  /**
   * The build command with the version as its last argument, and what it made: read from its stdout (`image:`,
   * `digest:`, `artifact:` lines), an artifact's sha256 computed here. A container tool that is not installed is
   * said as such before anything runs; a build that exits 0 and names nothing it made fails (nothing is pretended).
   */
  async build(version: string): Promise<BuildResult> {
    const problem = versionProblem(version);
    if (problem) return { ok: false, exitCode: null, reason: `not run: ${problem}` };
    const argv = this.o.config.build ? commandArgv(this.o.config.build) : [];
    if (!argv.length) return { ok: false, exitCode: null, reason: 'no build command' };
    const tool = path.basename(argv[0]);
    if (CONTAINER_TOOLS.has(tool) && !onPath(argv[0], this.o.repoDir))
      return {
        ok: false,
        exitCode: null,
        reason: `the build command needs ${tool} (${argv.join(' ')}), and ${tool} is not installed on this machine: build the image where it is, or configure a build that does not need it`,
      };
    if (DAEMON_TOOLS.has(tool)) {
      // Asked first, recorded like the build: a CLI without its daemon would fail the build half-way, less clearly.
      const v = await this.o.run({
        argv: [argv[0], 'version', '--format', '{{.Server.Version}}'],
        cwd: this.o.repoDir,
        env: this.o.env,
        timeoutMs: 60_000,
      });
      if (v.aborted) return { ok: false, exitCode: null, aborted: true, reason: `${tool} version: stopped by the operator` };
      if (v.exitCode !== 0)
        return {
          ok: false,
          exitCode: v.exitCode,
          reason: `the build command needs ${tool} (${argv.join(' ')}), and no ${tool} daemon answers on this machine (${tool} version failed: its output above says why)`,
        };
    }
    const said: BuildProduct = {};
    let daemonDown = false;
    const r = await this.o.run({
      argv: [...argv, version],
      cwd: this.o.repoDir,
      env: this.o.env,
      timeoutMs: BUILD_TIMEOUT_MS,
      stdoutLine: (line) => {
        const m = /^\s*(image|digest|artifact)\s*:\s*(\S+)\s*$/i.exec(line);
        if (m) {
          const key = m[1].toLowerCase() as 'image' | 'digest' | 'artifact';
          said[key] = m[2];
        }
        if (/Cannot connect to the Docker daemon|docker daemon is not running/i.test(line)) daemonDown = true;
        return line.trim() ? [{ stream: 'stdout', text: `${line}\n` }] : [];
      },
    });
    const what = `the build command (${argv.join(' ')})`;
    if (r.exitCode !== 0 || r.aborted || r.timedOut || r.spawnError) {
      const f = this.failure(r, what);
      return daemonDown ? { ...f, reason: `${f.reason}: the Docker daemon is not running here` } : f;
    }
    if (said.image) {
      const digest = said.digest ?? /@(sha256:[0-9a-f]{64})$/.exec(said.image)?.[1];
      if (digest && !/^sha256:[0-9a-f]{64}$/.test(digest))
        return { ok: false, exitCode: 0, reason: `${what} printed a digest that is not sha256:<64 hex digits>: ${digest}` };
      return { ok: true, image: said.image, ...(digest ? { digest } : {}) };
    }
    if (said.artifact) {
      const file = path.resolve(this.o.repoDir, said.artifact);
      if (!existsSync(file) || !statSync(file).isFile())
        return { ok: false, exitCode: 0, reason: `${what} says it made ${said.artifact}, and there is no such file` };
      return { ok: true, artifact: said.artifact, sha256: await sha256File(file) };
    }
    return {
      ok: false,
      exitCode: 0,
      reason: `${what} exited 0 but named nothing it built: it must print 'image: <ref>' (and 'digest: sha256:…') or 'artifact: <path>'`,
    };
  }
}
