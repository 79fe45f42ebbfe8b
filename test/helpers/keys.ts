import { expect } from 'vitest';
import { BINDINGS, keyLabel, type Layer } from '../../src/tui/keymap.js';
import { frame, KEY, waitFor, type Rendered } from './ink.js';

// Walking a screen's keys: the status bar read back, each hint checked against the keymap, each offered key pressed.

/** The status bar (the frame's last line): its mode and its hints, each a key and its words. */
export function bar(f: string): { mode: string; hints: Array<{ key: string; word: string }> } {
  const [mode, ...rest] = f
    .split('\n')
    .at(-1)!
    .trim()
    .split(/\s{2,}/);
  return {
    mode,
    hints: rest.map((h) => {
      const at = h.indexOf(' ');
      return { key: h.slice(0, at), word: h.slice(at + 1) };
    }),
  };
}

/** A hint is a binding of the screen's layer (or a global one) with exactly these keys and words. */
export function assertWordsFromKeymap(f: string, layers: Layer[]): void {
  const { hints } = bar(f);
  expect(hints.length, f).toBeGreaterThan(0);
  for (const h of hints) {
    const b = BINDINGS.find(
      (x) =>
        layers.includes(x.layer) &&
        x.bar &&
        x.hint === h.word &&
        (x.barKey === h.key ||
          x.keys.map(keyLabel).includes(h.key) ||
          BINDINGS.some((y) => y.layer === x.layer && y.barKey && y.barKey === x.barKey && y.keys.map(keyLabel).includes(h.key))),
    );
    expect(b, `'${h.key} ${h.word}' is not a binding of ${layers.join('/')}:\n${f}`).toBeDefined();
  }
}

const SEQ: Record<string, string> = {
  '↵': KEY.enter,
  esc: KEY.esc,
  space: ' ',
  tab: KEY.tab,
  '↓': KEY.down,
  '↑': KEY.up,
  '←': KEY.left,
  '→': KEY.right,
  'ctrl-c': KEY.ctrlC,
  '⌫': KEY.backspace,
  PgUp: KEY.pgup,
  PgDn: KEY.pgdn,
  F1: KEY.f1,
};

/** The keys a hint offers ("←/→" is two); what a terminal sends for each. */
export function offered(f: string): Array<{ label: string; seq: string }> {
  return bar(f).hints.flatMap((h) =>
    (h.key.length > 1 && h.key.includes('/') ? h.key.split('/') : [h.key]).map((k) => ({ label: `${k} (${h.word})`, seq: SEQ[k] ?? k })),
  );
}

/** Elapsed times tick on a live screen: they do not count as a change. */
const still = (f: string, live: boolean) => (live ? f.replace(/\d+(\.\d+)?(ms|s|m|h)\b/g, '#') : f);

export interface WalkHooks {
  /** The program has ended (its onExit was called). */
  exited(): boolean;
  /** After a try that cannot be undone, before the state is reached anew (stop what it started). */
  reset(): Promise<void>;
}

export interface Scenario {
  name: string;
  layers: Layer[];
  live: boolean;
  /** Reach the state (a fresh App each time); the frame it shows. */
  reach(): Promise<{ app: Rendered; frame: string }>;
  /** The bar the state must show (as a check that the state was reached). */
  expect: RegExp;
}

const lastLine = (f: string) => f.split('\n').at(-1)!;

/**
 * Each offered key, from the state: the frame changes, or the program ends. A question, a prompt or the help that a
 * key opened is closed again (n, esc) and the next key is tried from there; after any other key the state is
 * reached anew (a fresh App over a fresh session).
 */
export async function walk(sc: Scenario, hooks: WalkHooks): Promise<string[]> {
  let at: { app: Rendered; frame: string } | null = await sc.reach();
  const first = at.frame;
  expect(lastLine(first).trim(), sc.name).toMatch(sc.expect);
  assertWordsFromKeymap(first, sc.layers);
  const done: string[] = [];
  for (const k of offered(first)) {
    at ??= await sc.reach();
    const { app, frame: before } = at;
    app.stdin.write(k.seq);
    let after: string;
    try {
      after = await waitFor(app, (f) => hooks.exited() || still(f, sc.live) !== still(before, sc.live), 3000);
    } catch {
      throw new Error(`${sc.name}: ${k.label} is offered but changed nothing; the frame stayed:\n${frame(app)}`);
    }
    done.push(k.label);
    const mode = bar(after).mode;
    if (!hooks.exited() && (mode === 'ASK' || mode === 'TYPE' || mode === 'HELP')) {
      app.stdin.write(mode === 'ASK' ? 'n' : KEY.esc);
      try {
        await waitFor(app, (f) => lastLine(f) === lastLine(first), 2000);
        continue;
      } catch {
        // Not back where it was (a question that led on): reach the state anew.
      }
    }
    app.unmount();
    at = null;
    await hooks.reset();
  }
  at?.app.unmount();
  await hooks.reset();
  return done;
}
