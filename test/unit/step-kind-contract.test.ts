import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { parseChecklist } from '../../src/core/checklist/load.js';
import type { PlanNode } from '../../src/core/events.js';
import type { ServiceName, Services } from '../../src/engine/services.js';
import { defineStepKind } from '../../src/steps/define.js';
import { STEP_KINDS } from '../../src/steps/index.js';
import type { ServiceProvider, StepFacts } from '../../src/steps/types.js';

// The step-kind contract: a kind's spec is parsed and typed by its own schema, and it receives the services it
// declares (`needs`) and no other, at compile time and at run time.

const node = (spec: Record<string, unknown>): PlanNode => ({
  path: 'a',
  id: 'a',
  title: 'A step',
  kind: 'demo',
  depth: 0,
  parent: null,
  checklist: 'c',
  scope: '',
  spec,
});

const facts = (spec: Record<string, unknown>): StepFacts => ({
  node: node(spec),
  params: { version: '1.2.3' },
  repoDir: '/nowhere',
  attempt: 1,
  env: {},
  signal: new AbortController().signal,
});

/** A provider that records what was asked for and gives stand-ins for those services only. */
function provider(asked: ServiceName[][]): ServiceProvider {
  const stand: Partial<Services> = {
    log: () => undefined,
    release: { remote: 'upstream' },
    git: { currentBranch: async () => 'main' } as Services['git'],
  };
  return <N extends ServiceName>(needs: readonly N[]) => {
    asked.push([...needs]);
    return Object.fromEntries(needs.map((n) => [n, stand[n]])) as Pick<Services, N>;
  };
}

const demo = defineStepKind({
  kind: 'demo',
  fields: { run: z.array(z.union([z.string(), z.number().transform(String)])), remote: z.string().optional() },
  needs: ['git', 'release'],
  validate: (spec) => (spec.run.includes('bad') ? [{ path: ['run'], message: 'no bad' }] : []),
  describe: ({ spec, node, params }) => `${node.title}: ${spec.run.join(' ')} (${String(params.version)})`,
  async execute(ctx) {
    const args: string[] = ctx.spec.run;
    // @ts-expect-error files is not declared in needs: using it does not compile
    void ctx.files;
    return { status: 'failed', exitCode: null, reason: `${args.join(',')} on ${await ctx.git.currentBranch()} to ${ctx.release.remote}` };
  },
});

describe('defineStepKind', () => {
  it('gives describe, validate and execute the spec as the schema parses it', async () => {
    expect(demo.describe(node({ run: ['echo', 5] }), { version: '1.2.3' })).toBe('A step: echo 5 (1.2.3)');
    const asked: ServiceName[][] = [];
    const outcome = await demo.execute(facts({ run: ['echo', 5] }), provider(asked));
    expect(outcome).toEqual({ status: 'failed', exitCode: null, reason: 'echo,5 on main to upstream' });
    expect(asked).toEqual([['git', 'release']]);
    expect(demo.needs).toEqual(['git', 'release']);
  });

  it('has no probe and is not manual unless the definition says so', () => {
    expect('probe' in demo).toBe(false);
    expect('manual' in demo).toBe(false);
  });

  it("runs the kind's own validate on the parsed fields of a loaded checklist", () => {
    const text = ['id: c', 'title: C', 'steps:', '  - id: a', '    title: A', '    kind: demo', '    run: [bad, 1]', ''].join('\n');
    const r = parseChecklist({ id: 'c', file: 'c.yaml', text }, [...STEP_KINDS, demo]);
    expect(r.diagnostics.map((d) => d.message)).toEqual(["step 'a': no bad"]);
  });

  it('refuses a spec that does not fit the schema, saying which step and field', () => {
    expect(() => demo.describe(node({ run: 'echo' }), {})).toThrow(/step 'a': its fields do not fit kind 'demo' \(run: /);
  });
});
