/**
 * Key press to next frame on the checklist screen (docs/architecture.md §8: ≤ 16 ms), with a big session.
 *
 *   node --import tsx scripts/bench/keypress.tsx [--presses N] [--fps N] [--dev]
 *
 * The real <App> (src/tui/App.tsx) is rendered by Ink on the route {name:'session'} into a fake 100x30 TTY; its
 * SessionControls hand out one fixed view: a 500-step session (includes among them) with 100,000 lines of output, most
 * of them in the step that failed, folded with reduceAll from synthetic AuditEvents. Keys are written to the fake
 * stdin one at a time; each is timed to the first frame Ink writes after it (then the output must be quiet for a few
 * ms before the next key, so every key is timed alone). Ink runs with maxFps 1000 by default so its 34 ms frame
 * throttle (maxFps 30 in the cockpit) does not hide or add to the render work; keys are spaced so the throttle's
 * leading edge always renders at once (--fps 30 measures with the cockpit's setting; the figures should match).
 *
 * Measured: j/k alternately (the selection moves between the failed step, 90k lines, and the one before, 4k lines):
 * this is the budget figure; g/G alternately (first/last step: the list window moves) for context. The same on a
 * 10-step session with no output is the baseline, measured in the same run. A report, not a test: exit 0 either way.
 */
import { performance } from 'node:perf_hooks';
import { reduceAll } from '../../src/core/reducer.js';
import type { Route } from '../../src/tui/App.js';
import type { LiveView } from '../../src/engine/live.js';
import type { SessionControls } from '../../src/tui/types.js';
import {
  loadUi,
  machineLines,
  makeEvents,
  ms,
  stats,
  stubServices,
  Terminal,
  verdict,
  type KeyTiming,
  type SessionSpec,
  type Stats,
} from './ink-harness.js';
import { runBenchmark } from './run.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 && Number(process.argv[i + 1]) > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PRESSES = arg('--presses', 300);
const FPS = arg('--fps', 1000);
const WARMUP = 100;
const JUMPS = 60;
const BUDGET_MS = 16;
/** Quiet time after a frame before the next key: longer than Ink's throttle window, so the next key renders at once. */
const QUIET_MS = Math.max(8, Math.ceil(1000 / FPS) + 6);

const BIG: SessionSpec = {
  steps: 500,
  lines: 100_000,
  outputAt: [
    { index: 20, share: 0.03 },
    { index: 120, share: 0.03 },
    { index: 259, share: 0.04 },
    { index: 260, share: 0.9 },
  ],
  failAt: 260,
};
const SMALL: SessionSpec = { steps: 10, lines: 0, outputAt: [], failAt: 5 };

interface Scenario {
  label: string;
  events: number;
  fold: number;
  jk: KeyTiming[];
  gG: KeyTiming[];
}

async function scenario(ui: Awaited<ReturnType<typeof loadUi>>, label: string, spec: SessionSpec): Promise<Scenario> {
  const events = makeEvents(spec);
  const t0 = performance.now();
  const state = reduceAll(events);
  const fold = performance.now() - t0;
  if (!state) throw new Error('no state');
  const view: LiveView = {
    state,
    phase: 'paused',
    asking: null,
    message: { text: `step ${state.pause?.stepId} failed: exited with code 1`, tone: 'error' },
  };
  const controls: SessionControls = {
    subscribe: () => () => undefined,
    view: () => view,
    proceed: () => undefined,
    skip: () => undefined,
    abort: () => undefined,
    note: () => undefined,
    stop: async () => undefined,
    exitCode: () => 1,
    hold: () => undefined,
    release: () => undefined,
  };
  const route: Route = { name: 'session', controls };
  const term = new Terminal();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const instance = ui.render(
    ui.createElement(ui.App, {
      services: stubServices(),
      initial: route,
      theme: ui.colorTheme,
      onExit: () => undefined,
      onReady: () => ready(),
    }),
    term.inkOptions(FPS),
  );
  try {
    await isReady;
    await term.settle(50);
    const first = term.stdout.writes.filter((w) => w.text.length > 64).at(-1)?.text ?? '';
    if (!first.includes('Benchmark release') || !first.includes('FAILED')) throw new Error(`the session screen did not come up:\n${first}`);

    const keys = (a: string, b: string, n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b));
    for (const k of keys('k', 'j', WARMUP)) await term.press(k, { quietMs: QUIET_MS });
    const jk: KeyTiming[] = [];
    for (const k of keys('k', 'j', PRESSES)) jk.push(await term.press(k, { quietMs: QUIET_MS }));
    const gG: KeyTiming[] = [];
    for (const k of keys('g', 'G', JUMPS)) gG.push(await term.press(k, { quietMs: QUIET_MS }));
    return { label, events: events.length, fold, jk, gG };
  } finally {
    instance.unmount();
    instance.cleanup();
  }
}

function line(label: string, s: Stats): string {
  return `  ${label.padEnd(40)} ${ms(s.p50)} ${ms(s.p95)} ${ms(s.max)} ${ms(s.mean)}`;
}

async function main(): Promise<void> {
  const ui = await loadUi();
  console.log('keypress benchmark: key press → next frame on the checklist screen (real <App>, Ink into a fake 100x30 TTY)');
  for (const l of machineLines()) console.log(l);
  console.log(
    `config  : ${PRESSES} j/k presses + ${JUMPS} g/G presses per session (after ${WARMUP} warm-up); Ink maxFps ${FPS}; ${QUIET_MS} ms of quiet after each frame`,
  );
  console.log('');
  // The baseline first (it also warms the JIT for the components), then the big session.
  const small = await scenario(ui, 'baseline: 10 steps, 0 output lines', SMALL);
  const big = await scenario(ui, 'big: 500 steps, 100,000 output lines', BIG);

  for (const s of [small, big]) {
    const jk = stats(s.jk.map((k) => k.first));
    console.log(
      `${s.label}  (${s.events.toLocaleString('en-US')} events, folded with reduceAll in ${s.fold.toFixed(0)} ms before the screen)`,
    );
    console.log(`  ${''.padEnd(40)}      p50 ms      p95 ms      max ms     mean ms`);
    console.log(line('j/k: key → first frame', jk));
    console.log(line('    of which Ink building the frame text', stats(s.jk.map((k) => k.inkRender))));
    console.log(line('    key → last frame (settled)', stats(s.jk.map((k) => k.last))));
    console.log(line('g/G: key → first frame', stats(s.gG.map((k) => k.first))));
    const frames = [...s.jk, ...s.gG].map((k) => k.frames);
    console.log(`  frames per key press: min ${Math.min(...frames)}, max ${Math.max(...frames)}`);
    console.log('');
  }

  const b = stats(big.jk.map((k) => k.first));
  const s = stats(small.jk.map((k) => k.first));
  const bg = stats(big.gG.map((k) => k.first));
  console.log('ratios (big session / baseline session, same run)');
  console.log(
    `  j/k p50 ${(b.p50 / s.p50).toFixed(2)}x · p95 ${(b.p95 / s.p95).toFixed(2)}x · g/G p50 ${(bg.p50 / stats(small.gG.map((k) => k.first)).p50).toFixed(2)}x`,
  );
  console.log('');
  console.log(`budget: key press → next frame ≤ ${BUDGET_MS} ms (big session)`);
  console.log(
    `  [${verdict(b.p95 <= BUDGET_MS)}] j/k p95 ${b.p95.toFixed(2)} ms   (p50 ${b.p50.toFixed(2)} ms, max ${b.max.toFixed(2)} ms)`,
  );
  console.log(
    `  [${verdict(bg.p95 <= BUDGET_MS)}] g/G p95 ${bg.p95.toFixed(2)} ms   (p50 ${bg.p50.toFixed(2)} ms, max ${bg.max.toFixed(2)} ms)`,
  );
  console.log('');
  console.log('report only: the exit code is 0 whether or not the budget is met');
}

runBenchmark(main);
