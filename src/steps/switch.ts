import { scriptLine } from '../core/deploy/command.js';
import { strategyOf } from '../core/deploy/config.js';
import { parseDuration } from '../core/duration.js';
import { statusWords, type Colour, type DeployStatus } from '../core/deploy/status.js';
import { defineStepKind } from './define.js';
import { AT_RUN_TIME, checkDeployFields, colourField, colourOf, environment, envField, scriptFailed, shown } from './deploy-common.js';
import { fail } from './git-common.js';
import type { ProbeResult, StepContext } from './types.js';

type BlueGreen = Extract<DeployStatus, { strategy: 'blue-green' }>;

/** The colour to switch to: the step's, else the one this session deployed to (or why there is none). */
function colourFor(
  ctx: StepContext<{ colour?: string }, 'deploy'>,
  env: string,
): { colour: Colour; version: string | null } | { problem: string } {
  const deployed = ctx.deploy.facts(env).deployed;
  if (ctx.spec.colour !== undefined) {
    const c = colourOf(ctx.spec.colour, ctx.params);
    if (typeof c === 'object') return c;
    if (c === 'idle')
      return { problem: 'colour: idle does not apply to a switch (blue, green, or none: the colour this session deployed to)' };
    return { colour: c, version: deployed?.colour === c ? deployed.version : null };
  }
  if (!deployed?.colour)
    return { problem: `no deploy step of this session deployed to ${env}: nothing to switch to (give the step a colour: blue or green)` };
  return { colour: deployed.colour, version: deployed.version };
}

/**
 * Sends an environment's traffic to a colour: `switch <colour> --env E`, the colour this session's deploy step
 * deployed to unless the step names one. Before: status must say the colour is healthy (and runs what was deployed
 * there). After: status must say it is live. Records what was live before, and how long the old colour is kept for a
 * switch back (`keepPrevious`); the old colour keeps running. In-place environments have nothing to switch (the
 * deploy made the version live): ○, saying so.
 *
 * Resumed after a crash, the probe asks status: the colour live is a switch that happened, never switched twice.
 */
export const switchStep = defineStepKind({
  kind: 'switch',
  fields: { env: envField, colour: colourField.optional() },
  needs: ['deploy', 'record', 'log', 'clock'],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'colour']),
  describe({ spec, params, settings }) {
    const name = shown(spec.env, params);
    if (strategyOf(name, settings?.deploy?.[name]) === 'in-place')
      return `nothing to switch: ${name} is in-place (its deploy makes the version live)`;
    const colour = spec.colour !== undefined ? shown(spec.colour, params) : AT_RUN_TIME('the colour this session deployed to');
    const keep = settings?.deploy?.[name]?.keepPrevious;
    return `${scriptLine(settings?.deploy, name, ['switch', colour, '--env', name])} (then status --json must say it is live; the old colour keeps running${keep ? ` for ${keep}` : ''})`;
  },
  async execute(ctx) {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return e.outcome;
    if (e.script.strategy === 'in-place') {
      const deployed = ctx.deploy.facts(e.name).deployed;
      return {
        status: 'passed',
        nothingToCheck: `${e.name} is in-place: its deploy makes the version live${deployed ? ` (${deployed.version} is)` : ''}, there is no colour to switch`,
      };
    }
    const want = colourFor(ctx, e.name);
    if ('problem' in want) return fail(want.problem);
    const before = await e.script.status();
    if (!before.ok) return scriptFailed(before);
    const st = before.status as BlueGreen;
    const target = st.colours[want.colour];
    if (!target.healthy)
      return fail(
        `not switching: status says ${want.colour} (${target.version ?? 'nothing'}) is not healthy. ${st.live ?? 'no colour'} stays live`,
      );
    if (want.version && target.version !== want.version)
      return fail(
        `not switching: this session deployed ${want.version} to ${want.colour}, and status says it runs ${target.version ?? 'nothing'} now. ${st.live ?? 'no colour'} stays live`,
      );
    const r = await e.script.switch(want.colour);
    if (!r.ok) return scriptFailed(r);
    const after = await e.script.status();
    if (!after.ok) return scriptFailed(after);
    if ((after.status as BlueGreen).live !== want.colour)
      return fail(`${e.script.label} switch exited 0, but its status says ${statusWords(e.name, after.status)}: not taken as switched`);
    // Already live: the deploy made it so (an environment's first deploy); what was live before is the deploy's record.
    const from = st.live === want.colour ? (ctx.deploy.facts(e.name).deployed?.liveBefore ?? null) : st.live;
    await record(ctx, e.name, e.config.keepPrevious, from, want.colour, target.version, 'script');
    ctx.log(
      st.live === want.colour
        ? `${want.colour} (${target.version ?? '?'}) was live on ${e.name} already`
        : `switched ${e.name} from ${st.live ?? 'no colour'} to ${want.colour} (${target.version ?? '?'})${st.live ? `; ${st.live} (${st.colours[st.live].version ?? '?'}) keeps running${e.config.keepPrevious !== undefined ? ` for ${e.config.keepPrevious}` : ''}, for a switch back` : ''}`,
    );
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  async probe(ctx): Promise<ProbeResult> {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return { result: 'not-done', detail: 'the step cannot run as written' };
    if (e.script.strategy === 'in-place') return { result: 'not-done', detail: `${e.name} is in-place: nothing to switch` };
    const want = colourFor(ctx, e.name);
    if ('problem' in want) return { result: 'not-done', detail: want.problem };
    const got = await e.script.status();
    if (!got.ok) return { result: 'unknown', detail: `could not ask the deploy script: ${got.reason}` };
    const st = got.status as BlueGreen;
    if (st.live !== want.colour) return { result: 'not-done', detail: `status says ${statusWords(e.name, st)}` };
    const from = ctx.deploy.facts(e.name).deployed?.liveBefore ?? null;
    await record(ctx, e.name, e.config.keepPrevious, from, want.colour, st.colours[want.colour].version, 'probe');
    return {
      result: 'done',
      detail: `status says ${want.colour} (${st.colours[want.colour].version ?? '?'}) is live: switched before the interruption`,
    };
  },
});

async function record(
  ctx: StepContext<unknown, 'record' | 'clock'>,
  env: string,
  keepPrevious: string | number | undefined,
  from: Colour | null,
  to: Colour,
  version: string | null,
  via: 'script' | 'probe',
): Promise<void> {
  const keepMs = keepPrevious === undefined ? null : parseDuration(keepPrevious);
  await ctx.record([
    {
      type: 'deploy.switched',
      data: {
        env,
        from,
        to,
        version,
        keepPrevious: keepPrevious === undefined ? null : String(keepPrevious),
        keepPreviousUntil: keepMs === null || from === null || from === to ? null : ctx.clock.now() + keepMs,
        via,
      },
    },
  ]);
}
