import { z } from 'zod';
import { SLUG } from '../core/checklist/schema.js';
import { defineStepKind } from './define.js';

/**
 * Includes another checklist in place. The loader expands it into the plan (its steps follow, one level deeper),
 * so there is nothing to execute here: the include passes when everything inside it has.
 */
export const checklistStep = defineStepKind({
  kind: 'checklist',
  fields: {
    use: z.string().regex(SLUG, 'expected the id of another checklist'),
    with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  },
  needs: [],
  describe({ spec }) {
    return `include checklist '${spec.use}'`;
  },
  async execute() {
    return { status: 'passed' };
  },
});
