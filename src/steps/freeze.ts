import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { oneLine } from '../core/release/commits.js';
import { nextSlot } from '../core/release/schedule.js';
import { fail, refName } from './git-common.js';
import { defineStepKind } from './define.js';

const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/**
 * The code-freeze gate: with a release schedule in the config, the freeze on develop began `freeze` (24 h) before
 * the scheduled release. Commits that landed on develop after that (its first-parent history) are listed and stop
 * the step; skipping it is the override, and a skip needs a reason, which is recorded.
 */
export const freezeStep = defineStepKind({
  kind: 'freeze',
  rerunSafe: true,
  refs: { branch: 'the frozen branch' },
  fields: { branch: z.string().min(1).optional() },
  needs: ['git', 'release', 'log', 'clock'],
  describe({ spec, params }) {
    return `list the commits that landed on ${interpolate(spec.branch ?? 'develop', params)} after the code freeze began (release.schedule in cockpit.config.yaml); any stop the release unless skipped with a reason`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const branch = refName(spec.branch ?? 'develop', ctx.params, 'the frozen branch');
    if (!branch.ok) return fail(branch.reason);
    const schedule = ctx.release.schedule;
    if (!schedule) {
      ctx.log('no commit was compared with a freeze; the code-freeze confirmation stands.');
      return {
        status: 'passed',
        via: 'command',
        nothingToCheck: 'no release schedule configured (release.schedule in cockpit.config.yaml)',
      };
    }
    const now = ctx.clock.now();
    const slot = nextSlot(schedule, now);
    if (now < slot.freezeStart) {
      return fail(
        `the code freeze for the release due ${utc(slot.release)} only begins ${utc(slot.freezeStart)}: a release now has had no freeze. Wait for it, or skip this step with the reason (an agreed early release).`,
      );
    }
    const tip = await ctx.git.revParse(`refs/heads/${branch.name}`);
    if (!tip) return fail(`branch '${branch.name}' does not exist`);
    const last = await ctx.git.lastRelease(branch.name);
    const byHash = new Map((await ctx.git.commitsBetween(last?.commit ?? null, branch.name)).map((c) => [c.hash, c]));
    const late = [];
    for (let c = byHash.get(tip); c && c.date > slot.freezeStart; c = byHash.get(c.parents[0])) late.push(c);
    if (late.length) {
      const list = late
        .map((c) => `${c.hash.slice(0, 7)} ${utc(c.date)} ${oneLine(c.authorName)}: ${oneLine(c.message.split('\n')[0])}`)
        .join('\n  ');
      ctx.log(`landed on ${branch.name} after the freeze began (${utc(slot.freezeStart)}):\n  ${list}`);
      return fail(
        `${late.length} commit(s) landed on ${branch.name} after the code freeze began ${utc(slot.freezeStart)} (listed above). Revert them or move them out of the release, or override: skip this step with the reason.`,
      );
    }
    ctx.log(
      `${branch.name} has been frozen since ${utc(slot.freezeStart)} for the release due ${utc(slot.release)}: nothing landed since.`,
    );
    return { status: 'passed', via: 'command' };
  },
});
