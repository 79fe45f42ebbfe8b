import { z } from 'zod';
import type { ParamDef, ParamValue } from '../core/checklist/types.js';
import { interpolate, templateRefs } from '../core/params.js';
import { refNameProblem } from '../core/ref-name.js';
import type { ShellResult } from '../adapters/shell.js';
import type { StepContext, StepOutcome } from './types.js';

/** Git commands a step runs are recorded like any command (output, pid, exit code); reads go through ctx.git. */
export const GIT_TIMEOUT_MS = 5 * 60_000;

/** A field that may hold `${param}` references (branch names, refs, messages). */
export const templateField = z.string().min(1);

/** `${param}` references in the named fields must be parameters of the checklist. */
export function checkTemplates(step: Record<string, unknown>, params: Record<string, ParamDef>, keys: string[]) {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const check = (value: unknown, p: Array<string | number>) => {
    if (typeof value !== 'string') return;
    for (const ref of templateRefs(value))
      if (!Object.hasOwn(params, ref)) problems.push({ path: p, message: `'\${${ref}}' names no parameter of this checklist` });
  };
  for (const key of keys) {
    const v = step[key];
    if (Array.isArray(v)) v.forEach((x, i) => check(x, [key, i]));
    else check(v, [key]);
  }
  return problems;
}

/**
 * A ref name from a template, after the parameters are filled in. Arguments go to git as argv (no shell), but a
 * value starting with `-` would still be read as an option (`--force`, `--delete`): refused, as are names git
 * itself would refuse (git-check-ref-format's rules: core/ref-name.ts).
 */
export function refName(
  template: string,
  params: Record<string, ParamValue>,
  what: string,
): { ok: true; name: string } | { ok: false; reason: string } {
  const name = interpolate(template, params).trim();
  if (!name) return { ok: false, reason: `${what} is empty (from '${template}')` };
  if (name.startsWith('-')) return { ok: false, reason: `${what} '${name}' is not a valid git ref name: it starts with '-'` };
  const problem = refNameProblem(name);
  if (problem) return { ok: false, reason: `${what} '${name}' is not a valid git ref name: it ${problem}` };
  return { ok: true, name };
}

export async function gitRun(ctx: StepContext<unknown, 'run'>, args: string[]): Promise<ShellResult> {
  return ctx.run({
    argv: ['git', ...args],
    cwd: ctx.repoDir,
    env: { ...ctx.env, GIT_EDITOR: 'true', GIT_MERGE_AUTOEDIT: 'no' },
    timeoutMs: GIT_TIMEOUT_MS,
  });
}

/** The outcome of a git command that did not succeed (null when it did). */
export function failed(r: ShellResult, what: string): StepOutcome | null {
  if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
  if (r.spawnError) return { status: 'failed', exitCode: null, reason: `could not run git: ${r.spawnError}` };
  if (r.timedOut) return { status: 'failed', exitCode: r.exitCode, timedOut: true, reason: `${what}: timed out` };
  if (r.exitCode !== 0)
    return {
      status: 'failed',
      exitCode: r.exitCode,
      signal: r.signal,
      reason: `${what}: git exited with code ${r.exitCode} (its output is above)`,
    };
  return null;
}

export const fail = (reason: string): StepOutcome => ({ status: 'failed', exitCode: null, reason });
