import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { defineStepKind } from './define.js';

/** A manual step: instructions (help) and a question the operator answers. */
export const confirmStep = defineStepKind({
  kind: 'confirm',
  manual: true,
  fields: { prompt: z.string().min(1).optional() },
  needs: ['confirm'],
  describe({ spec, node, params }) {
    return `ask: ${interpolate(spec.prompt ?? `Done: ${node.title}?`, params)}`;
  },
  async execute(ctx) {
    // The question names the run's values (`Is release v${version} approved…?` asks about v2.4.0).
    const prompt = interpolate(ctx.spec.prompt ?? `Done: ${ctx.node.title}?`, ctx.params);
    const d = await ctx.confirm(prompt);
    switch (d.decision) {
      case 'yes':
        return { status: 'passed', via: 'confirmation', confirmation: { by: d.by, via: d.via, note: d.note } };
      case 'skip':
        return { status: 'skipped', reason: d.reason };
      case 'abort':
        return { status: 'aborted', reason: d.reason };
      default:
        return { status: 'waiting', message: `step '${ctx.node.path}' needs confirmation: ${prompt}`, hint: d.hint };
    }
  },
});
