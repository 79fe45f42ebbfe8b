import { createInterface } from 'node:readline/promises';
import type { PlanNode } from '../core/events.js';
import type { SessionState } from '../core/reducer.js';
import type { Interaction } from '../engine/session.js';
import type { Decision, MessageReview, ReviewDecision } from '../steps/types.js';
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
    // A message a step sends goes as rendered: nobody is there to read it first (the step's output says so).
    async review(node: PlanNode): Promise<ReviewDecision> {
      return { decision: 'unattended', why: preConfirmed(yes, node) ? '--yes names the step' : 'the run is non-interactive' };
    },
  };
}

/** The message as the line shows it before it is sent: each channel and what it shows, then the text, indented. */
export function reviewText(m: MessageReview): string {
  const lines = [`  ${m.title}${m.edited ? ` (edited by ${m.edited.by})` : ''}`];
  for (const c of m.channels) lines.push(`    → ${c.name} (${c.provider}): ${c.shows}`);
  for (const l of m.text.split('\n')) lines.push(`    | ${l}`);
  return `${lines.join('\n')}\n`;
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
          const common = await skipAbortQuit(rl, answer, operator, onQuit);
          if (common) return common;
        }
      } finally {
        rl.close();
      }
    },
    /** The message is printed; y sends it, e takes a new text (lines until one with a lone "."), s skips, q quits. */
    async review(node: PlanNode, m: MessageReview): Promise<ReviewDecision> {
      if (preConfirmed(yes, node)) return { decision: 'unattended', why: '--yes names the step' };
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      let text = m.text;
      try {
        process.stdout.write(`  The message, as it will be sent:\n${reviewText({ ...m, text })}`);
        for (;;) {
          const answer = (await rl.question('  ? send it [y]es / [e]dit / [s]kip / [a]bort / [q]uit for now: ')).trim().toLowerCase();
          if (answer === 'y' || answer === 'yes') return { decision: 'send', by: operator, via: 'prompt', text };
          if (answer === 'e' || answer === 'edit') {
            process.stdout.write('    type the new text; a line with a lone "." ends it (an empty text keeps the old):\n');
            const lines: string[] = [];
            for (;;) {
              const l = await rl.question('    | ');
              if (l.trim() === '.') break;
              lines.push(l);
            }
            if (lines.join('\n').trim()) text = lines.join('\n').trim();
            process.stdout.write(
              `  The message, as it will be sent now:\n${reviewText({ ...m, text, edited: text !== m.text ? { by: operator } : m.edited })}`,
            );
            continue;
          }
          const common = await skipAbortQuit(rl, answer, operator, onQuit);
          if (common) return common;
        }
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * The answers a question on the line and a message to send share: s (skip, with a reason), a (abort, asked again),
 * q (quit for now). The decision, or null to ask again (another answer, a skip without a reason, an abort not meant).
 */
async function skipAbortQuit(
  rl: ReturnType<typeof createInterface>,
  answer: string,
  by: string,
  onQuit: () => void,
): Promise<Extract<Decision, { decision: 'skip' | 'abort' | 'unavailable' }> | null> {
  if (answer === 's' || answer === 'skip') {
    const reason = (await rl.question('    why skip it? (required): ')).trim();
    if (reason) return { decision: 'skip', by, reason };
    process.stdout.write('    a skip needs a reason.\n');
    return null;
  }
  if (answer === 'a' || answer === 'abort') {
    const sure = (await rl.question('    abort the whole session? it cannot be resumed afterwards [y/N]: ')).trim().toLowerCase();
    return sure === 'y' || sure === 'yes' ? { decision: 'abort', by, reason: 'aborted at the prompt' } : null;
  }
  if (answer === 'q' || answer === 'quit') {
    onQuit();
    return { decision: 'unavailable', hint: '' };
  }
  return null;
}
