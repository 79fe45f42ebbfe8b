import { Box, Text } from 'ink';
import { formatDuration } from '../../core/duration.js';
import { progress, type SessionState } from '../../core/reducer.js';
import { paramsText, sessionLabel } from '../model.js';
import { readRecovery, recoveryText } from '../../core/recovery.js';
import { cellWidth, fitCells, fitParts } from '../cells.js';
import { screenLine } from '../text.js';
import { useTheme } from '../theme.js';

export interface HeaderProps {
  state: SessionState;
  phase: string;
  width: number;
  now: number;
  /** Replay: the speed, and the original wall-clock time of the moment shown. */
  replay?: { speed: string; playing: boolean; pos: number; length: number };
}

function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** Two lines: what runs (checklist, parameters, state) and where (session, operator, environment, elapsed, progress). */
export function Header({ state, phase, width, now, replay }: HeaderProps) {
  const t = useTheme();
  const label = sessionLabel(state, phase);
  const tone =
    state.outcome === 'succeeded'
      ? t.ok
      : state.outcome === 'aborted' || state.status === 'failed'
        ? t.danger
        : phase === 'asking' || state.status === 'waiting'
          ? t.warn
          : t.accent;
  const p = progress(state);
  const end = replay ? state.lastTime : (state.endedAt ?? now);
  const elapsed = formatDuration(Math.max(0, end - state.startedAt));
  // The recovery clock (a rollback): first on the second line, amber from 75% of its objective, red from 100%.
  const recovery = readRecovery(state, replay ? state.lastTime : now);
  const clock = recovery ? fitCells(recoveryText(recovery), width) : '';
  const clockTone = !recovery
    ? undefined
    : recovery.state === 'recovered' && recovery.met
      ? t.ok
      : recovery.state !== 'running' || recovery.level === 'red'
        ? t.danger
        : recovery.level === 'amber'
          ? t.warn
          : t.accent;
  const rest = clock ? width - cellWidth(clock) - 3 : width;
  return (
    <Box flexDirection="column" width={width} height={2}>
      <Text wrap="truncate-end">
        {replay ? (
          <Text inverse bold>
            {` REPLAY ${replay.playing ? '▶' : '❚❚'} ${replay.speed} `}
          </Text>
        ) : null}
        {replay ? ' ' : ''}
        <Text bold color={tone}>
          [{label}]
        </Text>{' '}
        <Text bold>{screenLine(state.checklist.title)}</Text>
        <Text color={t.muted}> [{screenLine(state.checklist.id)}]</Text> {screenLine(paramsText(state.params))}
      </Text>
      <Text color={t.muted}>
        {clock ? (
          <Text bold color={clockTone}>
            {clock}
          </Text>
        ) : null}
        {clock && rest >= 10 ? ' · ' : ''}
        {rest >= 10 &&
          fitParts(
            [
              // By priority (0 first; cells.ts's fitParts): the session's id always (cut only when nothing else
              // fits), the replayed moment, the progress, who runs it; the environment is also on line 1, a parameter.
              { text: replay ? `${utc(state.lastTime)} (event ${replay.pos}/${replay.length})` : '', priority: 1 },
              { text: `session ${state.id}`, priority: 0 },
              { text: `operator ${screenLine(state.operator)}`, priority: 3 },
              { text: state.environment ? `env ${screenLine(state.environment)}` : '', priority: 5 },
              { text: `elapsed ${elapsed}`, priority: 6 },
              { text: `${p.done}/${p.total} done${p.failed ? ` · ${p.failed} failed` : ''}`, priority: 2 },
              {
                text: state.resumes.length
                  ? `resumed ${state.resumes.length}×${state.resumes.some((r) => r.forced) ? ' (FORCED)' : ''}`
                  : '',
                priority: 4,
              },
            ],
            rest,
          )}
      </Text>
    </Box>
  );
}
