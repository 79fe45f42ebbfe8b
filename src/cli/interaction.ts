import { createInterface } from 'node:readline/promises';
import type { PlanNode } from '../core/events.js';
import type { SessionState } from '../core/reducer.js';
import type { Interaction } from '../engine/session.js';
import type { Decision } from '../steps/types.js';
import { preConfirmed, type YesList } from '../app/yes.js';
import type { CommandLine } from '../core/command-line.js';

export { parseYes, preConfirmed, unknownYesNames, type YesList } from '../app/yes.js';

/** Non-interactive: a confirmation passes only when `--yes` names the step (or `all`); otherwise the session waits. */
export function flagInteraction(yes: YesList, operator: string, command: CommandLine): Interaction {
  return {
    async confirm(node: PlanNode, _prompt: string, state: SessionState): Promise<Decision> {
      if (preConfirmed(yes, node)) return { decision: 'yes', by: operator, via: 'flag' };
      return {
        decision: 'unavailable',
        hint: `to confirm it and continue: ${command(['resume', state.id, '--non-interactive', '--yes', node.path])}`,
      };
    },
  };
}

/** A terminal without the full-screen cockpit: ask on the line. */
export function promptInteraction(yes: YesList, operator: string, onQuit: () => void): Interaction {
  return {
    async confirm(node: PlanNode, prompt: string): Promise<Decision> {
      if (preConfirmed(yes, node)) return { decision: 'yes', by: operator, via: 'flag' };
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        if (node.help) process.stdout.write(node.help.replace(/^/gm, '    ').trimEnd() + '\n');
        for (;;) {
          const answer = (await rl.question(`  ? ${prompt} [y]es / [s]kip / [a]bort / [q]uit for now: `)).trim().toLowerCase();
          if (answer === 'y' || answer === 'yes') {
            const note = (await rl.question('    note (optional, enter for none): ')).trim();
            return { decision: 'yes', by: operator, via: 'prompt', ...(note ? { note } : {}) };
          }
          if (answer === 's' || answer === 'skip') {
            const reason = (await rl.question('    why skip it? (required): ')).trim();
            if (!reason) {
              process.stdout.write('    a skip needs a reason.\n');
              continue;
            }
            return { decision: 'skip', by: operator, reason };
          }
          if (answer === 'a' || answer === 'abort') {
            const sure = (await rl.question('    abort the whole session? it cannot be resumed afterwards [y/N]: ')).trim().toLowerCase();
            if (sure === 'y' || sure === 'yes') return { decision: 'abort', by: operator, reason: 'aborted at the prompt' };
            continue;
          }
          if (answer === 'q' || answer === 'quit') {
            onQuit();
            return { decision: 'unavailable', hint: '' };
          }
        }
      } finally {
        rl.close();
      }
    },
  };
}
