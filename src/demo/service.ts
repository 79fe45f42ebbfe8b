// The contract between the demo's supervisor (./supervisor.ts) and the services it starts, checks and stops: the
// sandbox's PostgreSQL, the chat and status-page receivers, the blue/green targets, Prometheus and the traffic
// generator. Each service is its own module; the supervisor knows them only through this interface.
import { processRuns, startTimeOf } from '../adapters/process-alive.js';

import type { DemoScenario } from './scenario-names.js';

export type { DemoScenario };

export interface DemoContext {
  /** The sandbox (absolute). */
  dir: string;
  /** `<dir>/.sandbox/demo`: the services' logs, data folders and the supervisor's record of processes. */
  stateDir: string;
  scenario: DemoScenario;
  /** Progress for the user, one line each ("PostgreSQL 15 on 127.0.0.1:41234 (0.8 s)"). */
  log(line: string): void;
  /** What the services started before this one reported, by service name. */
  started: Record<string, StartedService>;
  /** The supervisor's pid: the demo's own node processes exit by themselves once it is gone. */
  parentPid: number;
}

/** A process a service left running: recorded by the supervisor, stopped by pid (with its start time, never a recycled pid). */
export interface DemoProcess {
  name: string;
  pid: number;
  /** /proc/<pid>/stat's start time (field 22), when known: a pid whose start time differs is another process. */
  startTime?: string;
}

export interface StartedService {
  name: string;
  processes: DemoProcess[];
  /** What to show the user, by label ("chat": "http://127.0.0.1:4321/"). */
  urls?: Record<string, string>;
  /** Config values that depend on ports chosen now: merged into `<dir>/cockpit.local.yaml`. */
  localConfig?: Record<string, unknown>;
  /** Environment for the cockpit and the sandbox's scripts (DATABASE_URL…). */
  env?: Record<string, string>;
  /** Anything else the service wants to keep between start, check and stop. */
  detail?: Record<string, unknown>;
}

export interface DemoService {
  name: string;
  /** An optional service that cannot start (Prometheus not installed) says why instead of failing the demo. */
  optional?: boolean;
  start(ctx: DemoContext): Promise<StartedService>;
  /** Healthy now? A string says what is wrong. */
  check(s: StartedService): Promise<true | string>;
  /** Stopping beyond killing its processes (the targets: deploy.sh stop). */
  stop?(ctx: DemoContext, s: StartedService): Promise<void>;
}

/** A process a service started, as it is recorded: with its start time now, when /proc has one. */
export function demoProcess(name: string, pid: number): DemoProcess {
  const startTime = startTimeOf(pid);
  return { name, pid, ...(startTime !== undefined ? { startTime } : {}) };
}

/** The pid runs, is not a zombie, and is the process recorded (the same start time). */
export function sameProcess(p: { pid: number; startTime?: string }): boolean {
  // Never init, nor the cockpit itself (a record names neither); a pid that is no positive integer is nothing.
  if (!Number.isSafeInteger(p.pid) || p.pid <= 1 || p.pid === process.pid || !processRuns(p.pid)) return false;
  const now = startTimeOf(p.pid);
  // No /proc: the pid answering is all that can be known. With /proc every process the demo starts is recorded with
  // its start time: one without is not a process the demo started.
  if (now === undefined) return true;
  return p.startTime !== undefined && now === p.startTime;
}
