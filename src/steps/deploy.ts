import { scriptLine } from '../core/deploy/command.js';
import { strategyOf } from '../core/deploy/config.js';
import { otherColour, statusWords, type Colour, type DeployStatus } from '../core/deploy/status.js';
import { defineStepKind } from './define.js';
import {
  AT_RUN_TIME,
  checkDeployFields,
  colourField,
  colourOf,
  environment,
  envField,
  scriptFailed,
  shown,
  versionField,
  versionOf,
} from './deploy-common.js';
import { fail } from './git-common.js';
import type { ProbeResult } from './types.js';

type BlueGreen = Extract<DeployStatus, { strategy: 'blue-green' }>;

/** The colour a blue-green deploy goes to: the one written, else the idle one (blue when nothing is live). */
function targetColour(asked: Colour | 'idle', st: BlueGreen): Colour {
  return asked !== 'idle' ? asked : st.live ? otherColour(st.live) : 'blue';
}

/**
 * Deploys a version with the environment's deploy script: blue-green, `deploy <v> --env E --colour <idle>` (the
 * live colour keeps serving); in-place, `deploy <v> --env E`. The script's exit 0 is not taken on its word:
 * `status --json` must then say the colour (or the environment) runs the version and is healthy. Records what was
 * deployed where, and what was live before (`deploy.deployed`).
 *
 * Resumed after a crash, the probe asks `status`: the target colour running the version, healthy, is a deploy
 * that happened; it is recorded as found, never deployed twice.
 */
export const deployStep = defineStepKind({
  kind: 'deploy',
  fields: { env: envField, version: versionField, colour: colourField.default('idle') },
  needs: ['deploy', 'record', 'log'],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version', 'colour'], ['idle', 'blue', 'green']),
  describe({ spec, params, settings }) {
    const name = shown(spec.env, params);
    const strategy = strategyOf(name, settings?.deploy?.[name]);
    const version = shown(spec.version, params);
    if (strategy === 'in-place')
      return `${scriptLine(settings?.deploy, name, ['deploy', version, '--env', name])} (in-place: the version goes live; then status --json must say ${name} runs ${version}, healthy)`;
    const colour = spec.colour === 'idle' ? AT_RUN_TIME('idle colour') : shown(spec.colour, params);
    return `${scriptLine(settings?.deploy, name, ['deploy', version, '--env', name, '--colour', colour])} (blue-green: the live colour keeps serving; then status --json must say the colour runs ${version}, healthy)`;
  },
  async execute(ctx) {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return e.outcome;
    const v = versionOf(ctx.spec.version, ctx.params);
    if (!v.ok) return v.outcome;
    const asked = colourOf(ctx.spec.colour, ctx.params);
    if (typeof asked === 'object') return fail(asked.problem);
    const before = await e.script.status();
    if (!before.ok) return scriptFailed(before);

    if (before.status.strategy === 'in-place') {
      if (asked !== 'idle') return fail(`${e.name} is in-place: it has no colours (colour: ${asked} does not apply)`);
      const r = await e.script.deploy(v.version, null);
      if (!r.ok) return scriptFailed(r);
      const after = await e.script.status();
      if (!after.ok) return scriptFailed(after);
      if (after.status.strategy !== 'in-place' || after.status.version !== v.version || !after.status.healthy)
        return fail(
          `${e.script.label} deploy exited 0, but its status says ${statusWords(e.name, after.status)}, not ${v.version} healthy: not taken as deployed`,
        );
      await ctx.record([
        {
          type: 'deploy.deployed',
          data: {
            env: e.name,
            version: v.version,
            strategy: 'in-place',
            colour: null,
            liveBefore: null,
            versionBefore: before.status.version,
            via: 'script',
          },
        },
      ]);
      ctx.log(`deployed ${v.version} to ${e.name} in place (was ${before.status.version ?? 'no version'}); status: healthy`);
      return { status: 'passed', exitCode: 0, via: 'command' };
    }

    const st = before.status;
    const colour = targetColour(asked, st);
    if (colour === st.live)
      return fail(
        `${colour} is live on ${e.name} (${st.colours[colour].version ?? '?'}): deploy to the idle colour (${otherColour(colour)}), then switch`,
      );
    const r = await e.script.deploy(v.version, colour);
    if (!r.ok) return scriptFailed(r);
    const after = await e.script.status();
    if (!after.ok) return scriptFailed(after);
    const now = after.status as BlueGreen;
    if (now.colours[colour].version !== v.version || !now.colours[colour].healthy)
      return fail(
        `${e.script.label} deploy exited 0, but its status says ${colour} runs ${now.colours[colour].version ?? 'nothing'}${now.colours[colour].healthy ? '' : ' (unhealthy)'}, not ${v.version} healthy: not taken as deployed`,
      );
    if (st.live && now.live !== st.live)
      return fail(
        `${e.script.label} deploy moved traffic: ${st.live} was live, status now says ${now.live ?? 'no colour'} is. A deploy must leave the live colour serving (the switch step switches)`,
      );
    await ctx.record([
      {
        type: 'deploy.deployed',
        data: {
          env: e.name,
          version: v.version,
          strategy: 'blue-green',
          colour,
          liveBefore: st.live,
          versionBefore: st.live ? st.colours[st.live].version : null,
          via: 'script',
        },
      },
    ]);
    ctx.log(
      st.live
        ? `deployed ${v.version} to ${e.name} ${colour}; ${st.live} (${st.colours[st.live].version ?? '?'}) stays live until the switch`
        : `deployed ${v.version} to ${e.name} ${colour}; no colour was live, ${now.live ?? 'none'} is live now`,
    );
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  async probe(ctx): Promise<ProbeResult> {
    const e = environment(ctx, ctx.spec.env);
    const v = versionOf(ctx.spec.version, ctx.params);
    const asked = colourOf(ctx.spec.colour, ctx.params);
    if (!e.ok || !v.ok || typeof asked === 'object') return { result: 'not-done', detail: 'the step cannot run as written' };
    const got = await e.script.status();
    if (!got.ok) return { result: 'unknown', detail: `could not ask the deploy script: ${got.reason}` };
    const st = got.status;
    const found = async (colour: Colour | null, liveBefore: Colour | null, versionBefore: string | null, detail: string) => {
      await ctx.record([
        {
          type: 'deploy.deployed',
          data: { env: e.name, version: v.version, strategy: st.strategy, colour, liveBefore, versionBefore, via: 'probe' },
        },
      ]);
      return { result: 'done' as const, detail };
    };
    if (st.strategy === 'in-place') {
      if (st.version === v.version && st.healthy) return found(null, null, null, `status says ${e.name} runs ${v.version}, healthy`);
      return { result: 'not-done', detail: `status says ${statusWords(e.name, st)}` };
    }
    const colour = targetColour(asked, st);
    const c = st.colours[colour];
    if (colour !== st.live && c.version === v.version && c.healthy)
      return found(
        colour,
        st.live,
        st.live ? st.colours[st.live].version : null,
        `status says ${colour} runs ${v.version}, healthy (${st.live ?? 'no colour'} live): deployed before the interruption`,
      );
    // A first deploy: nothing was live, the script made the colour it deployed live.
    if (
      asked === 'idle' &&
      st.live &&
      st.colours[st.live].version === v.version &&
      st.colours[st.live].healthy &&
      !st.colours[otherColour(st.live)].version
    )
      return found(st.live, null, null, `status says ${st.live} runs ${v.version}, healthy and live (the environment's first deploy)`);
    return { result: 'not-done', detail: `status says ${statusWords(e.name, st)}` };
  },
});
