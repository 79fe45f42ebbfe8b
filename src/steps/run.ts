import path from 'node:path';
import { z } from 'zod';
import { commandSchema, durationSchema } from '../core/checklist/schema.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { interpolate, templateRefs } from '../core/params.js';
import type { ParamValue } from '../core/checklist/types.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

export const DEFAULT_RUN_TIMEOUT = '30m';

type Command = string | string[];

const fields = {
  run: commandSchema,
  cwd: z.string().optional(),
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .optional(),
  timeout: durationSchema.optional(),
  probe: commandSchema.optional(),
};

type RunSpec = SpecOf<typeof fields>;

function showCommand(cmd: Command, params: Record<string, ParamValue>): string {
  if (typeof cmd === 'string') return cmd.trimEnd();
  return cmd
    .map((a) => interpolate(a, params))
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

async function runIt(ctx: StepContext<RunSpec, 'run'>, cmd: Command, timeoutMs: number) {
  const spec = ctx.spec;
  const env: Record<string, string> = { ...ctx.env };
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = typeof v === 'string' ? interpolate(v, ctx.params) : String(v);
  const cwd = path.resolve(ctx.repoDir, spec.cwd ? interpolate(spec.cwd, ctx.params) : '.');
  return ctx.run({
    argv: Array.isArray(cmd) ? cmd.map((a) => interpolate(a, ctx.params)) : undefined,
    script: Array.isArray(cmd) ? undefined : cmd,
    cwd,
    env,
    timeoutMs,
  });
}

/** A shell command (or an argv list, with `${param}` filled per argument), with a timeout and optional probe. */
export const runStep = defineStepKind({
  kind: 'run',
  fields,
  needs: ['run'],
  validate(step, params) {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    const check = (value: unknown, p: Array<string | number>) => {
      if (typeof value !== 'string') return;
      for (const ref of templateRefs(value))
        if (!Object.hasOwn(params, ref)) problems.push({ path: p, message: `'\${${ref}}' names no parameter of this checklist` });
    };
    for (const key of ['run', 'probe'] as const) {
      const cmd = step[key];
      if (Array.isArray(cmd)) cmd.forEach((a, i) => check(a, [key, i]));
    }
    for (const [k, v] of Object.entries(step.env ?? {})) check(v, ['env', k]);
    check(step.cwd, ['cwd']);
    return problems;
  },
  describe({ spec, params }) {
    const parts = [`run: ${showCommand(spec.run, params)}`];
    if (spec.cwd) parts.push(`in ${interpolate(spec.cwd, params)}`);
    parts.push(`timeout ${formatDuration(parseDuration(spec.timeout ?? DEFAULT_RUN_TIMEOUT)!)}`);
    if (spec.probe) parts.push(`probe: ${showCommand(spec.probe, params)}`);
    return parts.join(', ');
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const timeoutMs = parseDuration(spec.timeout ?? DEFAULT_RUN_TIMEOUT)!;
    const r = await runIt(ctx, spec.run, timeoutMs);
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.spawnError) return { status: 'failed', exitCode: null, reason: `could not start the command: ${r.spawnError}` };
    if (r.timedOut)
      return {
        status: 'failed',
        exitCode: r.exitCode,
        signal: r.signal,
        timedOut: true,
        reason: `timed out after ${formatDuration(timeoutMs)}`,
      };
    if (r.exitCode === 0) return { status: 'passed', exitCode: 0, via: 'command' };
    const why = r.exitCode === 127 ? ' (command not found)' : r.exitCode === 126 ? ' (not executable)' : '';
    return {
      status: 'failed',
      exitCode: r.exitCode,
      signal: r.signal,
      // The command's own last word on stderr says why more often than its code does.
      reason: `${r.signal ? `killed by ${r.signal}` : `exited with code ${r.exitCode}${why}`}${r.lastStderrLine ? `: ${r.lastStderrLine}` : ''}`,
    };
  },
  /** What the checklist's own `probe:` command says: exit 0, the effect is there; another code, it is not; no answer, unknown. */
  async probe(ctx) {
    const spec = ctx.spec;
    if (!spec.probe) return null;
    const r = await runIt(ctx, spec.probe, 60_000);
    if (r.exitCode === 0) return { result: 'done', detail: `probe exited 0: the step's effect is already there` };
    if (r.spawnError || r.timedOut) return { result: 'unknown', detail: r.spawnError ?? 'probe timed out' };
    return { result: 'not-done', detail: `probe exited ${r.exitCode}` };
  },
});
