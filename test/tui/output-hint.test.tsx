import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';
import { cockpitCommand } from '../../src/core/command-line.js';
import type { AuditEvent } from '../../src/core/events.js';
import { reduceAll } from '../../src/core/reducer.js';
import { OutputPane } from '../../src/tui/components/OutputPane.js';
import { UiContext, type Ui } from '../../src/tui/context.js';
import { planNode, startedData } from '../helpers/plan.js';

// The output pane keeps the last lines of a long output; its title names the command that prints all of it, for
// this session and step, runnable from where the cockpit was started (with --repo when that is elsewhere).

function longOutput(): AuditEvent[] {
  const ev = (seq: number, type: AuditEvent['type'], stepId: string | null, data: unknown) =>
    ({ sessionId: '20261206-101500-ab12', seq, time: seq, type, stepId, actor: 'alice', data }) as AuditEvent;
  return [
    ev(1, 'session.started', null, startedData('deploy', [planNode('build/bundle', 'run', { title: 'Bundle', scope: '' })])),
    ev(2, 'step.started', 'build/bundle', { attempt: 1 }),
    ev(3, 'step.output', 'build/bundle', { stream: 'stdout', text: Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('') }),
  ];
}

const title = (ui: Partial<Ui> | null) => {
  const state = reduceAll(longOutput())!;
  const pane = <OutputPane step={state.steps[0]} width={200} height={6} scroll={0} sessionId={state.id} />;
  return renderToString(ui ? <UiContext.Provider value={ui as Ui}>{pane}</UiContext.Provider> : pane, { columns: 200 }).split('\n')[0];
};

describe('the output pane names the command that prints all of a long output', () => {
  it('for this session and step', () => {
    expect(title(null)).toContain(
      'Output: 1,000 lines (last 200 here; all of it: cockpit audit show 20261206-101500-ab12 --step build/bundle)',
    );
  });

  it('with --repo, quoted, when the cockpit was started outside the repository', () => {
    const services = { command: (args: string[]) => cockpitCommand(args, { repoDir: "/srv/the team's repo", elsewhere: true }) };
    expect(title({ services } as unknown as Partial<Ui>)).toContain(
      `all of it: cockpit --repo '/srv/the team'\\''s repo' audit show 20261206-101500-ab12 --step build/bundle)`,
    );
  });
});
