import type { StoredEvent } from '../core/events.js';
import { exhaustive } from '../core/exhaustive.js';
import { escapeC1 } from '../core/sanitize.js';
import { approvalWords } from '../core/approval.js';
import { formatDuration } from '../core/duration.js';
import type { SessionState } from '../core/reducer.js';
import { readRecovery, recoveryText } from '../core/recovery.js';
import { GLYPH, makeStyler } from './style.js';

type Write = (text: string) => void;

/** One JSON object per event, as soon as it is durable. */
export function jsonPrinter(write: Write) {
  return (e: StoredEvent) => write(escapeC1(JSON.stringify(e)) + '\n');
}

function leafPosition(state: SessionState, path: string): string {
  let n = 0;
  let total = 0;
  for (const node of state.plan) {
    if (node.kind === 'checklist') continue;
    total++;
    if (node.path === path) n = total;
  }
  return `${n}/${total}`;
}

/** Human-readable live progress for `run --non-interactive` and the line-mode prompt. */
export function textPrinter(write: Write, stream: { isTTY?: boolean }, auditLocation: string) {
  const c = makeStyler(stream);
  const atLineStart: Record<string, boolean> = { stdout: true, stderr: true };
  return (e: StoredEvent, state: SessionState) => {
    const node = e.stepId ? state.plan[state.index[e.stepId]] : undefined;
    const pad = node ? '  '.repeat(node.depth) : '';
    const title = node ? `${node.title} ${c('gray', `(${node.path})`)}` : '';
    switch (e.type) {
      case 'session.started': {
        const d = e.data;
        const params = Object.entries(d.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        write(`${c('bold', `● ${d.checklist.title}`)} ${c('gray', `[${d.checklist.id}]`)}${params ? ` ${params}` : ''}\n`);
        write(c('gray', `  session ${e.sessionId} · ${d.operator}@${d.host} · audit log ${auditLocation}\n`));
        if (d.recovery) write(c('gray', `  recovery clock: objective ${d.recovery.objective}; ${d.recovery.reason}\n`));
        break;
      }
      case 'session.resumed': {
        const d = e.data;
        write(`${c('bold', `● resumed ${state.checklist.title}`)} ${c('gray', `session ${e.sessionId} · ${d.operator}@${d.host}`)}\n`);
        if (d.forced)
          write(
            c(
              'yellow',
              `  ⚠ forced: the checklist changed since the session began (${d.forced.oldSha256.slice(0, 12)} → ${d.forced.newSha256.slice(0, 12)})\n`,
            ),
          );
        break;
      }
      case 'step.started': {
        if (!node) break;
        const d = e.data;
        const attempt = d.attempt > 1 ? c('yellow', ` (attempt ${d.attempt})`) : '';
        write(`${pad}${c('cyan', `${GLYPH.running} [${leafPosition(state, node.path)}]`)} ${title}${attempt}\n`);
        if (d.description && node.kind !== 'confirm') write(`${pad}  ${c('gray', d.description)}\n`);
        atLineStart.stdout = atLineStart.stderr = true;
        break;
      }
      case 'step.output': {
        const d = e.data;
        let out = '';
        for (const piece of d.text.split(/(?<=\n)/)) {
          if (atLineStart[d.stream]) out += `${pad}  ${c('gray', '│')} `;
          out += piece;
          atLineStart[d.stream] = piece.endsWith('\n');
        }
        write(out);
        break;
      }
      case 'step.confirmed': {
        const d = e.data;
        write(
          `${pad}  ${c('green', GLYPH.passed)} confirmed ${d.via === 'flag' ? 'by flag (--yes)' : 'at the prompt'} · ${d.by}${d.note ? ` · ${d.note}` : ''}\n`,
        );
        break;
      }
      case 'step.passed': {
        if (!node) break;
        const d = e.data;
        if (!atLineStart.stdout || !atLineStart.stderr) write('\n');
        atLineStart.stdout = atLineStart.stderr = true;
        if (d.via === 'probe') write(`${pad}${c('green', GLYPH.passed)} ${title}: already done (probe)\n`);
        else if (d.nothingToCheck) write(`${pad}  ${c('yellow', `${GLYPH.unchecked} nothing to check`)}: ${d.nothingToCheck}\n`);
        else
          write(
            `${pad}  ${c('green', `${GLYPH.passed} passed`)}${d.durationMs !== undefined ? c('gray', ` in ${formatDuration(d.durationMs)}`) : ''}\n`,
          );
        break;
      }
      case 'step.failed': {
        const d = e.data;
        if (!atLineStart.stdout || !atLineStart.stderr) write('\n');
        atLineStart.stdout = atLineStart.stderr = true;
        write(
          `${pad}  ${c('red', `${GLYPH.failed} failed`)}: ${d.reason}${d.durationMs !== undefined ? c('gray', ` after ${formatDuration(d.durationMs)}`) : ''}\n`,
        );
        break;
      }
      case 'step.skipped': {
        const d = e.data;
        write(`${pad}${c('yellow', GLYPH.skipped)} ${title} skipped${d.by === 'operator' ? ' by the operator' : ''}: ${d.reason}\n`);
        break;
      }
      case 'step.interrupted': {
        const d = e.data;
        write(`${pad}${c('yellow', GLYPH.interrupted)} ${title} interrupted: ${d.reason}\n`);
        break;
      }
      case 'step.probed': {
        const d = e.data;
        write(`${pad}  ${c('gray', `probe: ${d.detail}`)}\n`);
        break;
      }
      case 'note.added': {
        const d = e.data;
        write(`${pad}  ${c('magenta', '✎ note')} (${e.actor}): ${d.text}\n`);
        break;
      }
      case 'approval.requested':
      case 'approval.granted':
      case 'approval.rejected':
      case 'approval.resolved':
      case 'approval.ignored':
        write(
          `${pad}  ${c(e.type === 'approval.ignored' || e.type === 'approval.rejected' ? 'red' : 'cyan', '⚑ approval')}: ${approvalWords(e)}\n`,
        );
        break;
      case 'session.paused': {
        const d = e.data;
        write(`${c('yellow', '‖ paused')}: ${d.message}\n`);
        if (d.hint) write(`  ${d.hint}\n`);
        break;
      }
      // The watch, in lines: one line per poll once every rule has its sample, and the breaches, recoveries and
      // connection changes as they happen (a breach rings the bell when the output is a terminal).
      case 'watch.started': {
        const d = e.data;
        const at = (t: number) => new Date(t).toISOString().slice(11, 19) + 'Z';
        write(`${pad}  ${c('cyan', '◔ watch')} ${d.resumed ? 'continues' : 'starts'}: ${d.rules.length} rule(s) against ${d.prometheus}, ${at(d.since)} → ${at(d.until)}, every ${formatDuration(d.intervalMs)}
`);
        break;
      }
      case 'watch.preflight': {
        const d = e.data;
        for (const w of d.warnings) write(`${pad}  ${c('yellow', `⚠ check: ${w}`)}\n`);
        break;
      }
      case 'watch.sample': {
        const d = e.data;
        const panel = state.watch;
        if (!panel || panel.rules.some((r) => r.lastT !== d.t)) break;
        const glyph = { pass: c('green', '✔'), fail: c('red', '✖'), inconclusive: c('yellow', '?'), error: c('yellow', '⚠') } as const;
        const cells = panel.rules.map(
          (r) => `${r.verdict ? glyph[r.verdict] : '·'} ${r.title}${r.value !== null ? ` ${Number(r.value.toPrecision(3))}` : ''}`,
        );
        write(`${pad}  ${c('gray', new Date(d.t).toISOString().slice(11, 19) + 'Z')} ${cells.join(c('gray', ' · '))}
`);
        break;
      }
      case 'watch.breach': {
        const d = e.data;
        write(`${stream.isTTY ? '\x07' : ''}${pad}  ${c('red', `✖ ALERT ${d.reason}`)}${d.advice === 'rollback' ? c('red', ` — the policy advises a rollback${d.policy ? ` ("${d.policy}")` : ''}`) : ''}
`);
        break;
      }
      case 'watch.recovery': {
        const d = e.data;
        write(`${pad}  ${c('green', `✔ recovered: ${d.reason}`)}
`);
        break;
      }
      case 'watch.connection': {
        const d = e.data;
        if (d.state === 'down')
          write(`${pad}  ${c('yellow', `⚠ Prometheus not answering: ${d.error ?? ''}`)}
`);
        else if (state.watch?.log.some((l) => l.kind === 'down'))
          write(`${pad}  ${c('green', '● Prometheus answering again')}
`);
        break;
      }
      case 'session.finished': {
        const d = e.data;
        const took = formatDuration(e.time - state.startedAt);
        write(
          d.outcome === 'succeeded'
            ? c('green', `● done: ${state.checklist.title} in ${took}\n`)
            : c('red', `● ${d.outcome}: ${d.reason ?? ''}\n`),
        );
        const r = readRecovery(state, e.time);
        if (r) write(c(r.met ? 'green' : 'red', `  ${recoveryText(r)}\n`));
        break;
      }
      // No line of their own (a smoke check's line, and a deploy step's, is its step's output).
      case 'step.spawned':
      case 'smoke.check':
      case 'deploy.built':
      case 'deploy.deployed':
      case 'deploy.switched':
      case 'deploy.rollback':
      case 'notify.sending':
      case 'notify.retrying':
      case 'notify.delivered':
      case 'notify.failed':
      case 'release.published':
      case 'watch.baseline':
      case 'watch.finished':
        break;
      default:
        exhaustive(e);
    }
  };
}
