import { z } from 'zod';
import { defineStepKind } from './define.js';

/** A manual step: instructions (help) and a question the operator answers. */
export const confirmStep = defineStepKind({
  kind: 'confirm',
  manual: true,
  fields: { prompt: z.string().min(1).optional() },
  needs: ['confirm'],
  describe({ spec, node }) {
    return `ask: ${spec.prompt ?? `Done: ${node.title}?`}`;
  },
  async execute(ctx) {
    const prompt = ctx.spec.prompt ?? `Done: ${ctx.node.title}?`;
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
