import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Box, Text } from 'ink';
import type { IssueUpdateOffer } from '../../core/notify/issue-update.js';
import type { MessageReview } from '../../steps/types.js';
import { fitCells } from '../cells.js';
import { screenLine, screenLines, wrap } from '../text.js';
import { useTheme } from '../theme.js';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { ChecklistView, checklistLayout } from '../components/ChecklistView.js';
import { pageOf } from '../components/OutputPane.js';
import { focusPath, stepAction, supersededWords, waitingApproval } from '../model.js';
import { applyMove, useStepSelection } from '../selection.js';
import { useTicker } from '../ticker.js';
import type { DemoServices, SessionControls, SupersededBy } from '../types.js';

/** The checklist the rollback key opens (the policy's code rollback: the fastest way back). */
const ROLLBACK = 'rollback-code';

/** A live session: the engine runs it; this screen shows `reduce(events)` and turns keys into the operator's intents. */
export function SessionScreen({ controls }: { controls: SessionControls }) {
  const ui = useUi();
  const view = useSyncExternalStore(controls.subscribe, controls.view);
  const { state, phase, asking } = view;
  const focus = focusPath(state, asking);
  const focusIndex = focus ? (state.index[focus] ?? 0) : Math.max(0, state.plan.length - 1);
  const { selected, outputScroll, moveBy, moveTo, scrollBy } = useStepSelection(state.plan.length, focus, focusIndex);
  // A recovery clock runs until the session ends, also while it waits after a failure.
  const ticking = phase === 'running' || phase === 'asking' || phase === 'starting' || (!!state.recovery && !state.outcome);
  const now = useTicker(ticking, ui.services.now);
  const active = phase === 'running' || phase === 'asking' || phase === 'stopping' || phase === 'starting';
  const stopped = phase === 'paused';
  const failed = stopped && state.status === 'failed';
  const node = state.plan[selected];
  // The "issue or delay" update being confirmed (`u`): its message shown above the prompt that edits its text.
  const [update, setUpdate] = useState<{ offer: IssueUpdateOffer; text: string } | null>(null);
  const offer = update ? null : (controls.issueUpdate?.() ?? null);
  // The demo's sandbox only: an approval that waits can be given here, as the demo's senior, with one key (A).
  const demo = ui.services.demo;
  const [demoApproving, setDemoApproving] = useState(false);
  const approval = demo && phase === 'running' ? waitingApproval(state) : null;
  const approveCommand = ui.services.command?.(['approve', state.id]) ?? `cockpit approve ${state.id}`;
  // A notify step's message before it is sent (the step asks): shown, sent with ↵, edited with e (the draft shown as typed).
  const reviewing = phase === 'asking' && asking?.review ? { path: asking.path, review: asking.review } : null;
  const [draft, setDraft] = useState<{ path: string; text: string } | null>(null);
  const drafting = reviewing && draft?.path === reviewing.path ? draft.text : null;
  const updateLines = update
    ? updatePanelLines(update.offer, update.text, ui.width, Math.floor(ui.height / 2) - 1)
    : reviewing
      ? reviewPanelLines(reviewing.path, reviewing.review, drafting, ui.width, Math.floor(ui.height / 2) - 1)
      : demo && approval
        ? demoApprovalLines(demo.senior, approveCommand, demoApproving, ui.width)
        : [];
  const updateHint = offer ? { about: offer.about, channels: offer.channels.map((c) => c.name) } : null;
  const layout = checklistLayout(ui.width, ui.height, updateLines.length, {
    state,
    selected,
    asking: asking && node && asking.path === node.path ? asking.prompt : null,
    update: updateHint,
  });

  const target = asking?.path ?? state.pause?.stepId ?? focus;
  // What r runs again, said while it runs (until the session has its own word: a result, an error).
  const [retrying, setRetrying] = useState<{ path: string; text: string } | null>(null);
  const said =
    view.message ??
    (retrying && retrying.path === focus && (phase === 'starting' || phase === 'running')
      ? { text: retrying.text, tone: 'info' as const }
      : null);

  useEffect(() => ui.ready(), [ui]);

  // A release resumed after another session released its version: said on the message line until something else is.
  const [superseded, setSuperseded] = useState<SupersededBy | null>(null);
  const sessionId = state.id;
  const services = ui.services;
  useEffect(() => {
    let live = true;
    services.superseded?.(sessionId).then(
      (s) => live && setSuperseded(s),
      () => undefined, // nothing to say when it cannot be told
    );
    return () => {
      live = false;
    };
  }, [services, sessionId]);
  const overtaken =
    superseded && !state.outcome ? { text: `${supersededWords(superseded, now)}: a aborts it`, tone: 'error' as const } : null;

  // A breach rings the terminal bell (once per breach; the panel shows the policy's advice).
  const breaches = state.watch?.breaches ?? 0;
  const rung = useRef(breaches);
  useEffect(() => {
    if (breaches > rung.current) ui.services.bell?.();
    rung.current = breaches;
  }, [breaches, ui]);

  const keys: ScreenKeys = {
    layer: 'session',
    mode:
      phase === 'asking'
        ? 'CONFIRM'
        : phase === 'paused'
          ? failed
            ? 'FAILED'
            : 'STOPPED'
          : phase === 'finished'
            ? 'DONE'
            : phase.toUpperCase(),
    available: (c) => {
      switch (c) {
        case 'session.confirm':
          return phase === 'asking';
        // After a failure enter does nothing: r retries, s skips, a aborts (each says what it does).
        case 'session.continue':
          return stopped && !failed;
        case 'session.retry':
          return failed;
        case 'session.skip':
          return (phase === 'asking' || stopped) && !!target;
        case 'session.abort':
          return phase !== 'finished' && phase !== 'stopping';
        case 'session.note':
          return !!node;
        case 'session.rollback':
          return !!state.watch && phase !== 'finished';
        case 'session.update':
          return !!offer;
        case 'session.demo-approve':
          return !!approval && !demoApproving;
        case 'session.edit':
          return !!reviewing;
        default:
          return true;
      }
    },
    onCommand: (c) => {
      if (applyMove(c, state.plan.length, moveBy, moveTo)) return;
      switch (c) {
        case 'output.up':
          return scrollBy(pageOf(layout.output));
        case 'output.down':
          return scrollBy(-pageOf(layout.output));
        case 'session.confirm':
        case 'session.continue':
          return controls.proceed();
        case 'session.retry': {
          const failedNode = target ? state.plan[state.index[target]] : undefined;
          if (failedNode) setRetrying({ path: failedNode.path, text: `retrying '${failedNode.path}': ${stepAction(failedNode)}` });
          return controls.proceed();
        }
        case 'session.skip':
          return ui.prompt(
            `Skip '${target}': why? (required, recorded)`,
            (reason) => controls.skip(reason),
            'a skip needs a reason: type why, then ↵ (esc cancels)',
          );
        case 'session.note':
          return ui.prompt(
            `Note on '${node.path}' (recorded with your name)`,
            (text) => controls.note(text, node.path),
            'the note is empty: type it, then ↵ (esc cancels)',
          );
        case 'session.rollback':
          return ui.ask(
            // One line at 80 columns (the session's id is in the header): a question cut short is not asked.
            `Start the rollback (${ROLLBACK})? This watch stops; it stays resumable.`,
            async () => {
              await controls.stop();
              const home = await ui.services.home();
              const rollback = home.checklists.find((c) => c.id === ROLLBACK);
              if (!rollback) return ui.flash(`no checklist '${ROLLBACK}' here: start the rollback from home`, 'error');
              // Its recovery clock counts from this watch's breach (read from the audit log when it starts).
              ui.go({ name: 'form', checklist: { ...rollback, recoverySince: state.id } });
            },
          );
        case 'session.edit': {
          if (!reviewing) return;
          const { path, review } = reviewing;
          setDraft({ path, text: review.text });
          return ui.prompt(
            'Message text (↵ sends it to the channels above, esc drops the edit)',
            (text) => {
              setDraft(null);
              controls.send?.(text);
            },
            'the message is empty: type it, then ↵ (esc drops the edit)',
            {
              value: review.text,
              onChange: (text) => setDraft({ path, text }),
              onCancel: () => setDraft(null),
            },
          );
        }
        case 'session.update': {
          if (!offer) return;
          setUpdate({ offer, text: offer.message.text });
          return ui.prompt(
            'Update text (↵ sends to the channels above, esc cancels)',
            (text) => {
              setUpdate(null);
              void controls.sendIssueUpdate?.(offer, text);
            },
            'the update is empty: type it, then ↵ (esc cancels)',
            {
              value: offer.message.text,
              onChange: (text) => setUpdate((u) => (u ? { ...u, text } : u)),
              onCancel: () => setUpdate(null),
            },
          );
        }
        case 'session.demo-approve': {
          if (!demo) return;
          setDemoApproving(true);
          ui.flash(`approving as ${demo.senior.email}: ${approveCommand}`);
          return void demo.approve(state.id).then(
            (r) => {
              setDemoApproving(false);
              ui.flash(r.text, r.ok ? 'info' : 'error');
            },
            (e: Error) => {
              setDemoApproving(false);
              ui.flash(e.message, 'error');
            },
          );
        }
        case 'session.abort':
          return ui.ask(`Abort session ${state.id} for good? It cannot be resumed afterwards.`, () =>
            ui.prompt(
              'Why abort? (required, recorded)',
              (reason) => controls.abort(reason),
              'an abort needs a reason: type why, then ↵ (esc cancels)',
            ),
          );
        case 'back':
          if (active)
            return ui.flash(
              phase === 'asking'
                ? 'a step waits for your answer: answer it, or q to quit (the session stays resumable)'
                : 'a step is running: wait for it, or q to stop it and quit',
              'error',
            );
          return ui.go({ name: 'home' });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
    quit: () => {
      if (phase === 'running' || phase === 'starting' || phase === 'stopping')
        return {
          question: 'A step is running. Stop it and quit? The session stays resumable; the next step waits.',
          then: () => controls.stop(),
          hold: () => controls.hold(),
          release: () => controls.release(),
        };
      if (phase === 'asking')
        return { question: `Quit with '${asking?.path}' unanswered? The session stays resumable.`, then: () => controls.stop() };
      return null;
    },
    exitCode: () => controls.exitCode(),
  };

  return (
    <ScreenFrame keys={keys} status={said ?? overtaken}>
      <ChecklistView
        state={state}
        phase={phase}
        selected={selected}
        focus={focus}
        asking={asking}
        outputScroll={outputScroll}
        width={ui.width}
        height={ui.height}
        now={now}
        footerRows={updateLines.length}
        update={updateHint}
        footer={
          reviewing && !update ? (
            <UpdatePanel lines={updateLines} title={1 + reviewing.review.channels.length} />
          ) : updateLines.length ? (
            <UpdatePanel lines={updateLines} />
          ) : undefined
        }
      />
    </ScreenFrame>
  );
}

/** The update as it will be sent: why, to which channels, its title and text (wrapped to the screen, each line fitted). */
export function updatePanelLines(offer: IssueUpdateOffer, text: string, width: number, maxRows = Infinity): string[] {
  const w = Math.max(20, width);
  const edited = text.trim() !== offer.message.text;
  const to = offer.channels.map((c) => `${c.name} (${c.provider}${c.status ? ` → ${c.status}` : ''})`).join(', ');
  const lines = [
    `─ 'issue or delay' update: ${offer.why}${edited ? ' · edited' : ''} `,
    `to ${to}`,
    offer.message.title,
    ...wrap(screenLine(text.trim() || '(empty)'), w - 2).map((l) => `  ${l}`),
  ];
  return panelRows(lines, w, maxRows);
}

/**
 * A notify step's message as it will be sent, before it is: what each channel shows (a chat's title, a status page's
 * incident or maintenance and status), then the text, its line breaks kept (the operator's draft while editing).
 */
export function reviewPanelLines(path: string, review: MessageReview, draft: string | null, width: number, maxRows = Infinity): string[] {
  const w = Math.max(20, width);
  const text = (draft ?? review.text).trim();
  const edited = draft !== null && text !== review.text.trim() ? ' · edited' : review.edited ? ` · edited by ${review.edited.by}` : '';
  const lines = [
    `─ step '${path}' sends '${review.message}'${edited} `,
    ...review.channels.map((c) => `→ ${c.name} (${c.provider}): ${c.shows}`),
    review.title,
    ...screenLines(text || '(empty)').flatMap((l) => wrap(l, w - 2).map((x) => `  ${x}`)),
    draft === null
      ? '↵ sends it · e edits the text · s skips it (a reason) · a aborts'
      : '↵ sends the text as typed (below) · esc drops the edit',
  ];
  return panelRows(lines, w, maxRows);
}

/** A panel's lines in `maxRows` (the text's tail gives way, counted) and each line fitted to the width; the first is a rule. */
function panelRows(lines: string[], w: number, maxRows: number): string[] {
  // On a short terminal the text's tail gives way (the prompt below holds all of it): the checklist keeps its rows.
  const rows = Math.max(4, maxRows);
  const shown = lines.length > rows ? [...lines.slice(0, rows - 1), `  … ${lines.length - rows + 1} more lines`] : lines;
  return shown.map((l, i) => fitCells(i === 0 ? l.padEnd(w, '─') : l, w));
}

/**
 * The demo's approval, said while an approve step waits on the demo's sandbox: who would give it in real life, from
 * their own shell, with the command they would type; and that A gives it here, as them.
 */
export function demoApprovalLines(senior: DemoServices['senior'], command: string, approving: boolean, width: number): string[] {
  const w = Math.max(20, width);
  const first = senior.name.split(' ')[0];
  const lines = [
    `─ demo: the approval `,
    `In real life ${senior.name} (${senior.email}) approves from their own shell:`,
    `  ${command}`,
    approving ? `Approving as ${first}…` : `Here, A approves as ${first} (that same command, recorded as ${first}'s).`,
  ];
  return lines.map((l, i) => fitCells(i === 0 ? l.padEnd(w, '─') : screenLine(l), w));
}

/** `title`: the row of the message's title (bold). */
function UpdatePanel({ lines, title = 2 }: { lines: string[]; title?: number }) {
  const t = useTheme();
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i} color={i === 0 ? t.accent : undefined} bold={i === title}>
          {l}
        </Text>
      ))}
    </Box>
  );
}
