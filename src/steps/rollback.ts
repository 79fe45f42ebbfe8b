import type { ParamValue } from '../core/checklist/types.js';
import { scriptLine } from '../core/deploy/command.js';
import { interpolate } from '../core/params.js';
import { strategyOf } from '../core/deploy/config.js';
import { otherColour, statusWords, type Colour, type DeployStatus } from '../core/deploy/status.js';
import { defineStepKind } from './define.js';
import { AT_RUN_TIME, checkDeployFields, environment, envField, scriptFailed, shown, versionField, versionOf } from './deploy-common.js';
import { fail } from './git-common.js';
import type { GitReader, ProbeResult, StepContext } from './types.js';

type BlueGreen = Extract<DeployStatus, { strategy: 'blue-green' }>;

export interface StableChoice {
  version: string;
  source: 'history' | 'tag';
  why: string;
}

/** The deploy history of the audit log, as the `deployHistory` service gives it. */
export interface DeployHistory {
  lastStable(env: string): Promise<{ version: string; why: string; session?: string } | null>;
}

/**
 * The last stable version of an environment, when the step names none: from the audit log first (the newest deploy
 * there whose post-deploy watch passed and that no rollback went back from: `deployHistory`), else the previous
 * release tag (the newest release tag older than the version live now), saying which and why.
 */
export async function lastStableVersion(
  git: GitReader,
  history: DeployHistory,
  env: string,
  live: string | null,
): Promise<StableChoice | null> {
  const recorded = await history.lastStable(env);
  if (recorded && recorded.version !== live) return { version: recorded.version, source: 'history', why: recorded.why };
  const none = recorded
    ? `the audit log's last stable version, ${recorded.version}, is the one live now`
    : 'the audit log has no deploy here whose watch passed';
  const head = await git.lastRelease();
  if (!head) return null;
  if (live === null || head.version !== live)
    return {
      version: head.version,
      source: 'tag',
      why: `the newest release tag (${head.tag})${live ? `, and ${env} runs ${live}` : ''}: ${none}`,
    };
  // The live version is the newest tag: the one before it.
  const before = await git.lastRelease(`${head.tag}^`);
  if (!before) return null;
  return {
    version: before.version,
    source: 'tag',
    why: `the release tag before ${head.tag} (${before.tag}), ${env} running ${live}: ${none}`,
  };
}

/**
 * The version the step names, as a template (`version: "\${version}"`), or undefined when it names none or its template
 * fills to nothing (an optional parameter left empty): then the rollback finds the last stable version itself.
 */
function namedVersion(template: string | undefined, params: Record<string, ParamValue>): string | undefined {
  return template !== undefined && interpolate(template, params).trim() !== '' ? template : undefined;
}

type Ctx = StepContext<{ env: string; version?: string }, 'deploy' | 'git' | 'deployHistory'>;

/** The version to go back to and why: the step's, the one recorded before an interruption, else the last stable one. */
async function choose(
  ctx: Ctx,
  env: string,
  live: string | null,
): Promise<({ source: 'step' } & Omit<StableChoice, 'source'>) | StableChoice | { problem: string }> {
  const named = namedVersion(ctx.spec.version, ctx.params);
  if (named !== undefined) {
    const v = versionOf(named, ctx.params);
    if (!v.ok) return { problem: v.outcome.status === 'failed' ? v.outcome.reason : 'bad version' };
    return { version: v.version, source: 'step', why: `the step names it (version: ${named})` };
  }
  const chosen = ctx.deploy.facts(env).rollback;
  if (chosen)
    return {
      version: chosen.version,
      source: chosen.source,
      why: `chosen before the interruption (its deploy.rollback event, from the ${chosen.source})`,
    };
  return (
    (await lastStableVersion(ctx.git, ctx.deployHistory, env, live)) ?? {
      problem: `no version to roll ${env} back to: no release tag before ${live ?? 'the live version'}, and the step names none (version:)`,
    }
  );
}

/**
 * Rolls an environment back to the last stable version (or the step's `version`), saying what it chose and why
 * (`deploy.rollback`). Blue-green: when the idle colour still runs that version, healthy, it switches back
 * (`switch <colour>`: seconds); otherwise `rollback <version> --env E` (a redeploy). In-place: `rollback <version>`.
 * Then status must say the version is live and healthy. The checklist's smoke steps follow.
 *
 * Resumed after a crash, the probe asks status: the chosen version live and healthy is a rollback that happened.
 */
export const rollbackStep = defineStepKind({
  kind: 'rollback',
  fields: { env: envField, version: versionField.optional() },
  needs: ['deploy', 'record', 'log', 'git', 'deployHistory'],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version']),
  describe({ spec, params, settings }) {
    const name = shown(spec.env, params);
    const named = namedVersion(spec.version, params);
    const version = named !== undefined ? shown(named, params) : AT_RUN_TIME('the last stable version');
    if (strategyOf(name, settings?.deploy?.[name]) === 'in-place')
      return `${scriptLine(settings?.deploy, name, ['rollback', version, '--env', name])} (in-place; then status --json must say ${name} runs it, healthy)`;
    return (
      `roll ${name} back to ${version}: ${scriptLine(settings?.deploy, name, ['switch', AT_RUN_TIME('idle colour'), '--env', name])} when the idle colour still runs it, healthy; ` +
      `else ${scriptLine(settings?.deploy, name, ['rollback', version, '--env', name])}`
    );
  },
  async execute(ctx) {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return e.outcome;
    const before = await e.script.status();
    if (!before.ok) return scriptFailed(before);
    const st = before.status;
    const liveVersion = st.strategy === 'in-place' ? st.version : st.live ? st.colours[st.live].version : null;
    const chosen = await choose(ctx, e.name, liveVersion);
    if ('problem' in chosen) return fail(chosen.problem);
    const version = chosen.version;

    const liveHealthy = st.strategy === 'in-place' ? st.healthy : st.live ? st.colours[st.live].healthy : false;
    if (liveVersion === version && liveHealthy) {
      ctx.log(`${e.name} runs ${version} already, healthy (${chosen.why})`);
      return { status: 'passed', nothingToCheck: `${e.name} already runs ${version}, healthy: nothing to roll back` };
    }
    let how: 'switch-back' | 'redeploy' = 'redeploy';
    let colour: Colour | null = null;
    let liveBefore: Colour | null = null;
    if (st.strategy === 'blue-green') {
      liveBefore = st.live;
      colour = st.live ? otherColour(st.live) : 'blue';
      const idle = st.colours[colour];
      if (idle.version === version && idle.healthy) how = 'switch-back';
    }
    let reason = `${chosen.why}; in-place: deployed again`;
    if (st.strategy === 'blue-green' && colour) {
      const idle = st.colours[colour];
      reason =
        how === 'switch-back'
          ? `${chosen.why}; ${colour} still runs it, healthy`
          : `${chosen.why}; the idle colour ${colour} runs ${idle.version ?? 'nothing'}${idle.healthy ? '' : ' (not healthy)'}, so it is deployed again`;
    }
    await ctx.record([
      { type: 'deploy.rollback', data: { env: e.name, version, source: chosen.source, why: reason, how, colour, liveBefore } },
    ]);
    ctx.log(`rolling ${e.name} back to ${version} by ${how === 'switch-back' ? `switching back to ${colour}` : 'redeploying'}: ${reason}`);
    const r = how === 'switch-back' ? await e.script.switch(colour!) : await e.script.rollback(version);
    if (!r.ok) return scriptFailed(r);
    const after = await e.script.status();
    if (!after.ok) return scriptFailed(after);
    const a = after.status;
    const nowLive = a.strategy === 'in-place' ? { version: a.version, healthy: a.healthy } : a.live ? a.colours[a.live] : null;
    if (!nowLive || nowLive.version !== version || !nowLive.healthy)
      return fail(
        `${e.script.label} exited 0, but its status says ${statusWords(e.name, a)}, not ${version} live and healthy: not taken as rolled back`,
      );
    if (a.strategy === 'blue-green' && a.live)
      await ctx.record([
        {
          type: 'deploy.switched',
          data: { env: e.name, from: liveBefore, to: a.live, version, keepPrevious: null, keepPreviousUntil: null, via: 'script' },
        },
      ]);
    ctx.log(`rolled ${e.name} back to ${version}: ${statusWords(e.name, a)}`);
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  async probe(ctx): Promise<ProbeResult> {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return { result: 'not-done', detail: 'the step cannot run as written' };
    const chosen = ctx.deploy.facts(e.name).rollback;
    const template = namedVersion(ctx.spec.version, ctx.params);
    const named = template !== undefined ? versionOf(template, ctx.params) : null;
    const version = named?.ok ? named.version : chosen?.version;
    // Nothing chosen yet: the script was not run (the choice is recorded first).
    if (!version) return { result: 'not-done', detail: 'no version was chosen before the interruption' };
    const got = await e.script.status();
    if (!got.ok) return { result: 'unknown', detail: `could not ask the deploy script: ${got.reason}` };
    const st = got.status;
    const live =
      st.strategy === 'in-place' ? { version: st.version, healthy: st.healthy } : st.live ? (st as BlueGreen).colours[st.live] : null;
    if (live?.version === version && live.healthy) return { result: 'done', detail: `status says ${e.name} runs ${version} live, healthy` };
    return { result: 'not-done', detail: `status says ${statusWords(e.name, st)}` };
  },
});
