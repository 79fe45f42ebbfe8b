import { Box } from 'ink';
import { useTheme } from '../theme.js';
import type { ReactNode } from 'react';
import type { SessionState } from '../../core/reducer.js';
import { outputLines } from '../model.js';
import { DetailPane, detailLines } from './DetailPane.js';
import { Header, type HeaderProps } from './Header.js';
import { OutputPane } from './OutputPane.js';
import { StepList, stepListWant } from './StepList.js';
import { WatchPanel } from './WatchPanel.js';

export interface ChecklistViewProps {
  state: SessionState;
  phase: string;
  selected: number;
  focus: string | null;
  asking: { path: string; prompt: string } | null;
  outputScroll: number;
  width: number;
  height: number;
  now: number;
  replay?: HeaderProps['replay'];
  /** Rows under the panes (the replay's timeline). */
  footer?: ReactNode;
  footerRows?: number;
  /** The 'issue or delay' update `u` offers now: the step it is about and its channels (a failed step's "What next" names it). */
  update?: UpdateHint | null;
}

export interface UpdateHint {
  about: string | null;
  channels: string[];
}

/** What the layout measures of a session: the step list's widest row, the selected step's detail and output. */
export interface LayoutContent {
  state: SessionState;
  selected: number;
  /** The question open on the selected step, if any. */
  asking: string | null;
  update?: UpdateHint | null;
}

/** The step list gets at least this many cells; the detail pane keeps this share of the width (and 34 cells). */
const LIST_MIN = 24;
const RIGHT_SHARE = 0.45;
const RIGHT_MIN = 34;

/**
 * The layout of one session, by priority. Width: the step list as wide as its titles need (state glyph and whole
 * title with duration), as long as the detail pane keeps 45% of the width; the rest is the detail's. Height: the
 * detail pane's essential lines (title, state, the whole error, what next) first, then the output's tail (up to
 * 40% of the body), then the rest of the detail; the output takes what is left.
 */
export function checklistLayout(width: number, height: number, footerRows = 0, content?: LayoutContent) {
  const rightMin = Math.max(RIGHT_MIN, Math.ceil(width * RIGHT_SHARE));
  const listMax = Math.max(LIST_MIN, width - 2 - rightMin);
  const want = content ? stepListWant(content.state) : Math.floor(width * 0.38);
  const listWidth = Math.max(LIST_MIN, Math.min(listMax, want));
  // One column for the divider, one for the space after it.
  const rightWidth = Math.max(10, width - listWidth - 2);
  const body = Math.max(3, height - 2 - footerRows);
  const detailText = content ? detailLines(content.state, content.selected, rightWidth, content.asking, content.update) : undefined;
  let detail = Math.max(3, Math.ceil(body * 0.45));
  if (detailText) {
    const step = content!.state.steps[content!.selected];
    const outputWant = (step ? outputLines(step).length : 0) + 1;
    // The output pane is two rows at least: its title and one line.
    const outputMin = Math.max(2, Math.min(outputWant, Math.floor(body * 0.4)));
    const needed = detailText.lines.length;
    detail = Math.min(needed, body - outputMin);
    // The essential lines always get their rows (and one for "… more lines" when the rest is cut).
    const essential = detailText.essential + (needed > detailText.essential ? 1 : 0);
    detail = Math.max(detail, Math.min(essential, body - 2), 1);
  }
  const output = Math.max(2, body - detail);
  return { listWidth, rightWidth, body, detail, output, detailText };
}

export function ChecklistView(p: ChecklistViewProps) {
  const t = useTheme();
  const node = p.state.plan[p.selected];
  const asking = p.asking && node && p.asking.path === node.path ? p.asking.prompt : null;
  const l = checklistLayout(p.width, p.height, p.footerRows ?? 0, { state: p.state, selected: p.selected, asking, update: p.update });
  // The watch step selected: its monitor panel takes the whole width (value, baseline, change, threshold, sparkline).
  const panel = node && node.kind === 'watch' && p.state.watch?.step === node.path ? p.state.watch : undefined;
  if (panel) {
    const live = !p.replay && p.state.current === node.path && !panel.finished;
    return (
      <Box flexDirection="column" width={p.width} height={p.height}>
        <Header state={p.state} phase={p.phase} width={p.width} now={p.now} replay={p.replay} />
        <WatchPanel panel={panel} width={p.width} height={l.body} now={p.now} live={live} />
        {p.footer}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={p.width} height={p.height}>
      <Header state={p.state} phase={p.phase} width={p.width} now={p.now} replay={p.replay} />
      <Box flexDirection="row" height={l.body}>
        <StepList
          state={p.state}
          selected={p.selected}
          focus={p.focus}
          asking={p.asking?.path ?? null}
          width={l.listWidth}
          height={l.body}
          now={p.now}
        />
        <Box
          flexDirection="column"
          width={l.rightWidth + 1}
          height={l.body}
          borderStyle="single"
          borderTop={false}
          borderRight={false}
          borderBottom={false}
          borderColor={t.border}
          paddingLeft={1}
        >
          <DetailPane state={p.state} index={p.selected} width={l.rightWidth} height={l.detail} asking={asking} detail={l.detailText} />
          <OutputPane
            step={p.state.steps[p.selected]}
            width={l.rightWidth}
            height={l.output}
            scroll={p.outputScroll}
            sessionId={p.state.id}
          />
        </Box>
      </Box>
      {p.footer}
    </Box>
  );
}
