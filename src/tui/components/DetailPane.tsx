import { Box, Text } from 'ink';
import type { SessionState } from '../../core/reducer.js';
import { markdownRuns, type MarkdownRun } from '../../core/markdown.js';
import { cellWidth } from '../cells.js';
import { paramsText, stepAction, stepOutcomeLine } from '../model.js';
import { reflow, screenLine, screenLines, wrap } from '../text.js';
import { useTheme } from '../theme.js';

export interface DetailPaneProps {
  state: SessionState;
  index: number;
  width: number;
  height: number;
  /** The question the engine asks about this step, if it asks now. */
  asking: string | null;
  /** The lines, when the layout has worked them out already. */
  detail?: DetailLines;
}

type Line = { text: string; style?: 'title' | 'label' | 'danger' | 'warn' | 'muted' | 'ok'; runs?: MarkdownRun[] };

export interface DetailLines {
  lines: Line[];
  /** The first lines that are never cut: the title, the state (a failure's whole error), the question, what next. */
  essential: number;
}

/**
 * The selected step's detail, wrapped to `width` cells: its state, what it does, the policy's words, the operator's
 * help, its parameters and notes. Worked out before render, so the layout can give it the rows it needs.
 */
export function detailLines(
  state: SessionState,
  index: number,
  width: number,
  asking: string | null,
  update?: { about: string | null; channels: string[] } | null,
): DetailLines {
  const node = state.plan[index];
  const step = state.steps[index];
  const w = Math.max(10, width);
  const lines: Line[] = [];
  const push = (text: string, style?: Line['style'], indent = '') => {
    for (const l of wrap(text, w - indent.length)) lines.push({ text: indent + l, style });
  };
  // A line of Markdown (the policy's words, the help): wrapped as its text, each piece keeping its style.
  const pushMarkdown = (line: string, indent: string) => {
    const runs = markdownRuns(line);
    const plain = runs.map((r) => r.text).join('');
    let at = 0;
    for (const l of wrap(plain, w - indent.length)) {
      const start = Math.max(at, plain.indexOf(l, at));
      at = start + l.length;
      lines.push({ text: indent + l, runs: [{ text: indent }, ...sliceRuns(runs, start, at)] });
    }
  };
  if (!node || !step) return { lines, essential: 0 };
  push(`${screenLine(node.title)}  [${node.path}] (${node.kind})`, 'title');
  const outcome = asking ? 'waiting for your answer' : screenLine(stepOutcomeLine(step));
  push(
    outcome,
    asking
      ? 'warn'
      : step.status === 'failed'
        ? 'danger'
        : step.status === 'passed'
          ? 'ok'
          : step.status === 'waiting' || step.status === 'interrupted'
            ? 'warn'
            : 'muted',
  );
  if (asking) push(`? ${screenLine(asking)}   ↵ confirm · s skip (reason) · a abort`, 'warn');
  // A question open at this moment with no one to answer it here (a replay): the question, as it was asked.
  else if (step.status === 'waiting' && state.current === node.path && step.reason) push(`? ${screenLine(step.reason)}`, 'warn');
  if (step.status === 'failed') {
    // u is offered for this failure (a production deploy with notify: channels): said with what it sends and where.
    const tell = update && update.about === node.path ? ` · u sends ${update.channels.join(', ')} the issue-or-delay update` : '';
    push(`What next: fix the cause, then r retry · s skip with a reason · a abort${tell} · q quit (resume later)`, 'warn');
  }
  if (step.status === 'interrupted' || (state.pause && state.pause.stepId === node.path && state.status !== 'failed'))
    push('↵ continues the session from here', 'warn');
  const essential = lines.length;
  const params = state.scopes[node.scope]?.params;
  // A description of several lines (a notify step: each channel, then the message as it is sent) keeps its lines.
  for (const l of screenLines(step.description ?? stepAction(node, params))) push(l);
  if (params && Object.keys(params).length) push(`with ${screenLine(paramsText(params))}`, 'muted');
  if (node.policy) {
    lines.push({ text: 'Policy (quoted)', style: 'label' });
    for (const l of screenLines(reflow(node.policy))) pushMarkdown(l, '  ');
  }
  if (node.help) {
    lines.push({ text: 'How', style: 'label' });
    for (const l of screenLines(reflow(node.help))) pushMarkdown(l, '  ');
  }
  const noteLines = (title: string, notes: typeof state.notes) => {
    if (!notes.length) return;
    lines.push({ text: `${title} (${notes.length})`, style: 'label' });
    for (const n of notes)
      push(`${new Date(n.time).toISOString().slice(11, 19)} ${screenLine(n.actor)}: ${screenLine(n.text)}`, undefined, '  ');
  };
  noteLines(
    'Notes',
    state.notes.filter((n) => n.stepId === node.path),
  );
  // Notes on the whole session (`cockpit note <session> "…"` without --step) belong to every step's view.
  noteLines(
    'Session notes',
    state.notes.filter((n) => n.stepId === null),
  );
  return { lines, essential };
}

const more = (n: number, width: number) => {
  const long = `… ${n} more lines (a taller terminal shows them)`;
  return cellWidth(long) <= width ? long : `… ${n} more lines`;
};

/** The selected step's detail in `height` rows: the essential lines first and whole, what does not fit counted. */
export function DetailPane({ state, index, width, height, asking, detail }: DetailPaneProps) {
  const t = useTheme();
  const { lines, essential } = detail ?? detailLines(state, index, width, asking);
  if (!lines.length) return <Box height={height} />;
  const room = Math.max(1, height);
  // The rows run out: the essential lines stay (the layout gives them the rows), the rest is counted on the last row.
  const keep = Math.max(room - 1, Math.min(essential, room));
  const shown =
    lines.length > room
      ? [...lines.slice(0, keep), ...(keep < room ? [{ text: more(lines.length - keep, width), style: 'muted' as const }] : [])]
      : lines;
  const color = (s?: Line['style']) =>
    s === 'danger' ? t.danger : s === 'warn' ? t.warn : s === 'muted' ? t.muted : s === 'ok' ? t.ok : s === 'label' ? t.accent : undefined;
  return (
    // Rows are counted and truncated above, so this box needs no clipping of its own (clipping costs Ink a slice per line).
    <Box flexDirection="column" width={width} height={room}>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate-end" bold={l.style === 'title' || l.style === 'label' || l.style === 'danger'} color={color(l.style)}>
          {l.runs
            ? l.runs.map((r, k) => (
                <Text key={k} bold={r.strong} color={r.code ? t.accent : undefined}>
                  {r.text}
                </Text>
              ))
            : l.text || ' '}
        </Text>
      ))}
    </Box>
  );
}

/** The runs covering characters [start, end) of their joined text. */
function sliceRuns(runs: MarkdownRun[], start: number, end: number): MarkdownRun[] {
  const out: MarkdownRun[] = [];
  let at = 0;
  for (const r of runs) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + r.text.length);
    if (to > from) out.push({ ...r, text: r.text.slice(from - at, to - at) });
    at += r.text.length;
  }
  return out;
}
