import { Box } from 'ink';
import { useTheme } from '../theme.js';
import type { ReactNode } from 'react';
import type { SessionState } from '../../core/reducer.js';
import { DetailPane } from './DetailPane.js';
import { Header, type HeaderProps } from './Header.js';
import { OutputPane } from './OutputPane.js';
import { StepList } from './StepList.js';
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
}

/** The layout of one session: header, the step list, the selected step's detail over its output. */
export function checklistLayout(width: number, height: number, footerRows = 0) {
  const listWidth = Math.max(28, Math.min(52, Math.floor(width * 0.38)));
  // One column for the divider, one for the space after it.
  const rightWidth = Math.max(10, width - listWidth - 2);
  const body = Math.max(3, height - 2 - footerRows);
  const detail = Math.max(3, Math.ceil(body * 0.45));
  const output = Math.max(2, body - detail);
  return { listWidth, rightWidth, body, detail, output };
}

export function ChecklistView(p: ChecklistViewProps) {
  const t = useTheme();
  const l = checklistLayout(p.width, p.height, p.footerRows ?? 0);
  const node = p.state.plan[p.selected];
  const asking = p.asking && node && p.asking.path === node.path ? p.asking.prompt : null;
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
          <DetailPane state={p.state} index={p.selected} width={l.rightWidth} height={l.detail} asking={asking} />
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
