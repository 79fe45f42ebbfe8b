import { useEffect, useMemo, useRef, useState } from 'react';
import type { AuditEvent } from '../../core/events.js';
import { advance, changeSpeed, seek, speedLabel, startPlayback, stepBy, timelineCells, Replay, type Playback } from '../../core/replay.js';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { ChecklistView, checklistLayout } from '../components/ChecklistView.js';
import { pageOf } from '../components/OutputPane.js';
import { Timeline } from '../components/Timeline.js';
import { asShownLive, focusPath, lastStarted } from '../model.js';
import { applyMove, useStepSelection } from '../selection.js';

/** Replay advances at most this often (the data layer throttles, not only Ink). */
export const REPLAY_TICK_MS = 50;
/**
 * A seek that would cost more than this (Replay.foldCost: events folded one by one, about 3 µs each with 500 steps,
 * so some 30 ms) in one frame shows where the fold has got to meanwhile.
 */
export const MAX_FOLD_PER_FRAME = 10_000;

function describe(e: AuditEvent): string {
  const at = new Date(e.time).toISOString().slice(11, 19);
  return `${at} ${e.actor}: ${e.type}${e.stepId ? ` ${e.stepId}` : ''}`;
}

/** A finished (or stopped) session, read-only: the stored events through the same reducer, on a virtual clock. */
export function ReplayScreen({ events, speed }: { sessionId: string; events: AuditEvent[]; speed?: number }) {
  const ui = useUi();
  const replay = useMemo(() => new Replay(events), [events]);
  const [play, setPlay] = useState<Playback>(() => startPlayback(replay, speed ?? 1));
  // A seek far ahead of what is folded yet (just after opening a long session) is not folded inside a key press:
  // the screen shows the fold's progress, and the target once the background fold is near it.
  const [folded, setFolded] = useState(replay.frontier);
  const seeking = replay.foldCost(play.pos) > MAX_FOLD_PER_FRAME;
  const seekingRef = useRef({ seeking, pos: play.pos, told: 0 });
  seekingRef.current.seeking = seeking;
  seekingRef.current.pos = play.pos;
  const shownPos = seeking ? Math.min(play.pos, replay.frontier) : play.pos;
  const state = useMemo(() => asShownLive(replay.stateAt(shownPos)), [replay, shownPos, folded]);
  const last = useRef(ui.services.now());

  // Checkpoints are folded in small slices after the first frame, so a seek later folds at most one slice.
  useEffect(() => {
    let id: NodeJS.Immediate | null = null;
    const step = () => {
      const done = replay.precompute(2000);
      // While a seek waits, the screen hears of the fold's progress a few times a second, and at once when it can land.
      const w = seekingRef.current;
      const now = Date.now();
      if (done || (w.seeking && (replay.foldCost(w.pos) <= MAX_FOLD_PER_FRAME || now - w.told > 250))) {
        w.told = now;
        setFolded(replay.frontier);
      }
      id = done ? null : setImmediate(step);
    };
    id = setImmediate(step);
    return () => {
      if (id) clearImmediate(id);
    };
  }, [replay]);

  useEffect(() => {
    if (!play.playing) return;
    last.current = ui.services.now();
    const id = setInterval(() => {
      const now = ui.services.now();
      const elapsed = now - last.current;
      last.current = now;
      setPlay((p) => advance(replay, p, elapsed));
    }, REPLAY_TICK_MS);
    return () => clearInterval(id);
  }, [play.playing, replay, ui.services]);

  const focus = focusPath(state, null);
  // At the end (or the start) no step is at work: the last one that started stays selected, as G leaves it.
  const focusIndex = focus ? (state.index[focus] ?? 0) : lastStarted(state);
  const { selected, outputScroll, moveBy, moveTo, scrollBy } = useStepSelection(state.plan.length, focus, focusIndex);
  const layout = checklistLayout(ui.width, ui.height, 2, { state, selected, asking: null });

  useEffect(() => ui.ready(), [ui]);

  const keys: ScreenKeys = {
    layer: 'replay',
    mode: 'REPLAY',
    // A key that would not move anything from here is not offered (and does nothing).
    available: (c) => {
      switch (c) {
        case 'replay.next-marker':
          return replay.nextMarker(play.pos) !== null;
        case 'replay.prev-marker':
          return replay.prevMarker(play.pos) !== null;
        case 'replay.back':
        case 'replay.start':
          return play.pos > 1;
        case 'replay.forward':
        case 'replay.end':
          return play.pos < replay.length;
        case 'replay.faster':
          return changeSpeed(play, 1) !== play;
        case 'replay.slower':
          return changeSpeed(play, -1) !== play;
        default:
          return true;
      }
    },
    onCommand: (c) => {
      if (applyMove(c, state.plan.length, moveBy, moveTo)) return;
      switch (c) {
        case 'replay.toggle':
          return setPlay((p) =>
            p.pos >= replay.length && !p.playing ? { ...seek(replay, p, 1), playing: true } : { ...p, playing: !p.playing },
          );
        case 'replay.back':
          return setPlay((p) => stepBy(replay, p, -1));
        case 'replay.forward':
          return setPlay((p) => stepBy(replay, p, 1));
        case 'replay.faster':
          return setPlay((p) => changeSpeed(p, 1));
        case 'replay.slower':
          return setPlay((p) => changeSpeed(p, -1));
        case 'replay.start':
          return setPlay((p) => ({ ...seek(replay, p, 1), playing: false }));
        case 'replay.end':
          return setPlay((p) => ({ ...seek(replay, p, replay.length), playing: false }));
        case 'replay.next-marker': {
          const to = replay.nextMarker(play.pos);
          return to !== null && setPlay((p) => ({ ...seek(replay, p, to), playing: false }));
        }
        case 'replay.prev-marker': {
          const to = replay.prevMarker(play.pos);
          return to !== null && setPlay((p) => ({ ...seek(replay, p, to), playing: false }));
        }
        case 'output.up':
          return scrollBy(pageOf(layout.output));
        case 'output.down':
          return scrollBy(-pageOf(layout.output));
        case 'back':
          return ui.go({ name: 'home' });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
  };

  const cells = timelineCells(replay, ui.width, play.pos);
  const event = replay.eventAt(play.pos);
  const marker = replay.markerAt(play.pos);
  const status = seeking
    ? {
        text: `seeking to event ${play.pos}: ${Math.round((100 * replay.frontier) / replay.length)}% of the session read…`,
        tone: 'info' as const,
      }
    : { text: `${describe(event)}${marker ? `   · last marker: ${marker.label}` : ''}`, tone: 'info' as const };
  return (
    <ScreenFrame keys={keys} status={status}>
      <ChecklistView
        state={state}
        phase={state.outcome ? 'finished' : 'paused'}
        selected={selected}
        focus={focus}
        asking={null}
        outputScroll={outputScroll}
        width={ui.width}
        height={ui.height}
        now={state.lastTime}
        replay={{ speed: speedLabel(play.speed), playing: play.playing, pos: shownPos, length: replay.length }}
        footer={<Timeline width={ui.width} cells={cells} />}
        footerRows={2}
      />
    </ScreenFrame>
  );
}
