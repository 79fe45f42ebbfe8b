import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { keyPresses, resolveKey, typesText, type KeyPress, type Layer } from './keymap.js';
import { HomeScreen } from './screens/HomeScreen.js';
import { ParamForm } from './screens/ParamForm.js';
import { ReplayScreen } from './screens/ReplayScreen.js';
import { MigrateScreen } from './screens/MigrateScreen.js';
import { SessionScreen } from './screens/SessionScreen.js';
import { MIN_COLUMNS, MIN_ROWS, useTerminalSize } from './size.js';
import { ThemeContext, type Theme } from './theme.js';
import { CommitContext, FrameContext, KeysContext, UiContext, type Bar, type Route, type ScreenKeys, type Ui } from './context.js';

import type { AppServices } from './types.js';

export type { Route } from './context.js';

function toKeyPress(input: string, key: Key): KeyPress {
  return { ...key, input };
}

export interface AppProps {
  services: AppServices;
  initial: Route;
  theme: Theme;
  onExit(code: number): void;
  /** Called once the first frame is up (start-up benchmark). */
  onReady?(): void;
}

export function App({ services, initial, theme, onExit, onReady }: AppProps) {
  const { exit } = useApp();
  const { isRawModeSupported, internal_eventEmitter: inputEvents } = useStdin();
  const size = useTerminalSize();
  const [route, setRoute] = useState<Route>(initial);
  const [help, setHelp] = useState(false);
  const [bar, setBar] = useState<Bar | null>(null);
  const [message, setMessage] = useState<{ text: string; tone: 'info' | 'error' } | null>(null);
  const keysRef = useRef<ScreenKeys | null>(null);
  // Keys can arrive faster than renders (several in one chunk of input): the handler reads and writes these refs,
  // so a second key sees what the first one did, not the state of the last render.
  const barRef = useRef<Bar | null>(null);
  barRef.current = bar;
  const [helpScroll, setHelpScroll] = useState(0);
  const helpMax = useRef(0);
  const helpRef = useRef(false);
  helpRef.current = help;
  const setBarNow = useCallback((next: Bar | null, answeredYes = false) => {
    const prev = barRef.current;
    barRef.current = next;
    setBar(next);
    // A question closed any other way than yes (no, esc, another question, a new screen) was answered no.
    if (prev?.kind === 'dialog' && prev !== next && !answeredYes) prev.onNo?.();
  }, []);
  const setHelpNow = useCallback((next: boolean) => {
    helpRef.current = next;
    setHelp(next);
  }, []);
  const quitting = useRef(false);

  const finish = useCallback(
    (code: number) => {
      onExit(code);
      exit();
    },
    [exit, onExit],
  );

  const height = Math.max(1, size.rows - 1);
  const ui = useMemo<Ui>(
    () => ({
      ask: (question, onYes) => setBarNow({ kind: 'dialog', question, onYes }),
      prompt: (label, onSubmit, required, opts) =>
        setBarNow({
          kind: 'prompt',
          label,
          value: opts?.value ?? '',
          required: required ?? null,
          secret: !!opts?.secret,
          onSubmit,
          onChange: opts?.onChange,
          onCancel: opts?.onCancel,
        }),
      flash: (text, tone = 'info') => setMessage({ text, tone }),
      go: (r) => {
        setMessage(null);
        setBarNow(null);
        setRoute(r);
      },
      ready: () => {
        const f = readyOnce.current;
        readyOnce.current = undefined;
        f?.();
      },
      services,
      width: size.columns,
      height: height - 2,
    }),
    [finish, services, size.columns, height, setBarNow],
  );

  const readyOnce = useRef(onReady);

  const quit = useCallback(() => {
    if (quitting.current) return;
    const screen = keysRef.current;
    const q = screen?.quit?.() ?? null;
    const go = (then: () => Promise<void>) => {
      quitting.current = true;
      setMessage({ text: 'stopping…', tone: 'info' });
      void then().finally(() => finish(keysRef.current?.exitCode?.() ?? 0));
    };
    if (!q) return go(async () => undefined);
    // While the operator is asked, the run holds: the step that runs goes on (and is recorded), the next waits.
    q.hold?.();
    setBarNow({ kind: 'dialog', question: q.question, onYes: () => go(q.then), onNo: () => q.release?.(), quit: true });
  }, [finish, setBarNow]);

  /** One key press, with the bar, the help and the screen's keys as the key before it left them. */
  const onKey = useCallback(
    (k: KeyPress) => {
      const input = k.input;
      const screen = keysRef.current;
      const b = barRef.current;
      const help = helpRef.current;
      const layers: Layer[] = [];
      if (help) layers.push('help');
      else if (b) layers.push(b.kind);
      if (screen && !help && !b) layers.push(screen.layer);
      // A text field with the focus takes character keys (q, ?) as text: only ctrl-c quits from there (F1 and, in an
      // empty field, `?` open the help).
      const typed = screen?.typing && !help && !b && typesText(k) && !(screen.empty && k.input === '?');
      if (!typed) layers.push('global');
      const ctrlC = !!k.ctrl && input === 'c';
      // Ctrl-C always means quit; while a bar is open, typed letters are text, not commands.
      const command = resolveKey(b?.kind === 'prompt' && !ctrlC ? ['prompt'] : layers, k, (c) =>
        c.startsWith('help.') || c.startsWith('dialog.') || c.startsWith('prompt.') || c === 'quit'
          ? true
          : (screen?.available(c) ?? false),
      );
      if (command === 'help.open') {
        setHelpScroll(0);
        return setHelpNow(true);
      }
      if (command === 'help.close') return setHelpNow(false);
      if (command === 'help.down') return setHelpScroll((s) => Math.min(helpMax.current, s + 1));
      if (command === 'help.up') return setHelpScroll((s) => Math.max(0, s - 1));
      if (command === 'quit') {
        // Asked already: the question stays (closing and asking again would let a held step start in between).
        if (b?.kind === 'dialog' && b.quit) return;
        setBarNow(null);
        return quit();
      }
      if (b?.kind === 'dialog') {
        if (command === 'dialog.yes') {
          setBarNow(null, true);
          b.onYes();
        } else if (command === 'dialog.no') setBarNow(null);
        return;
      }
      if (b?.kind === 'prompt') {
        const edit = (value: string) => {
          setBarNow({ ...b, value, error: undefined });
          b.onChange?.(value);
        };
        if (command === 'prompt.cancel') {
          setBarNow(null);
          return b.onCancel?.();
        }
        if (command === 'prompt.erase') return edit(b.value.slice(0, -1));
        if (command === 'prompt.submit') {
          const value = b.value.trim();
          if (!value && b.required) return setBarNow({ ...b, error: b.required });
          // A secret is taken as typed: spaces may be part of it.
          if (b.secret) {
            setBarNow(null);
            return b.onSubmit(b.value);
          }
          setBarNow(null);
          return b.onSubmit(value);
        }
        if (input && !k.ctrl && !k.meta && !k.escape) edit(b.value + input.replace(/[\r\n]/g, ' '));
        return;
      }
      if (help || !screen) return;
      if (command) {
        setMessage(null);
        return screen.onCommand(command);
      }
      if (input && !k.ctrl && !k.meta && screen.onText) screen.onText(input);
    },
    [quit, setBarNow, setHelpNow],
  );

  // Keys wait here in order; each is handled once the one before it is on screen (its state rendered), so a key
  // sees what the key before it did: `/` then a filter text, tab then a value, `jjjj` in one burst.
  const queue = useRef<KeyPress[]>([]);
  const draining = useRef(false);
  /** An empty input event the handler sent itself: the turn of the next key waiting. */
  const turn = useRef(false);
  const afterCommit = useRef<(() => void) | null>(null);
  const committed = useCallback(() => afterCommit.current?.(), []);
  const next = useCallback(() => {
    const k = queue.current.shift();
    if (!k) return;
    // Text for a prompt or a text field goes in whole: a paste is one change, not one render per character.
    if (typesText(k) && (barRef.current?.kind === 'prompt' || keysRef.current?.typing) && !helpRef.current)
      while (queue.current[0] && typesText(queue.current[0])) k.input += queue.current.shift()!.input;
    onKey(k);
  }, [onKey]);

  // What Ink's input parser emitted, before useInput reads it into one key: a text run holds several keys.
  const raw = useRef<string | null>(null);
  useEffect(() => {
    if (!inputEvents) return;
    const seen = (data: string) => {
      raw.current = data;
    };
    // First of the listeners, whenever useInput subscribes: its handler always reads this event's text.
    inputEvents.prependListener('input', seen);
    return () => {
      inputEvents.removeListener('input', seen);
    };
  }, [inputEvents]);

  const onInput = useCallback(
    (input: string, key: Key) => {
      if (turn.current) next();
      else {
        queue.current.push(...keyPresses(raw.current, toKeyPress(input, key)));
        raw.current = null;
        // Keys are being handed on one by one: these wait their turn behind them.
        if (draining.current) return;
        next();
      }
      // No event emitter to hand keys back through (not Ink 6.8): the rest of the burst now, in order.
      if (!inputEvents) while (queue.current.length) next();
      draining.current = queue.current.length > 0;
      if (!draining.current) return;
      // The next key waits for this one's frame (a key that changed nothing draws none: then a moment), and comes
      // back through Ink's input events, as typed keys do.
      let handed = false;
      const hand = () => {
        if (handed) return;
        handed = true;
        clearTimeout(fallback);
        afterCommit.current = null;
        setImmediate(() => {
          turn.current = true;
          try {
            inputEvents?.emit('input', '');
          } finally {
            turn.current = false;
          }
        });
      };
      const fallback = setTimeout(hand, 50);
      afterCommit.current = hand;
    },
    [next, inputEvents],
  );

  // One input handler for the whole app; off when there is no terminal to read keys from.
  useInput(onInput, { isActive: isRawModeSupported === true });

  let body: ReactNode;
  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    // The screen is not drawn, but its keys still work: a question asked here must be seen.
    const ask = bar?.kind === 'dialog' ? `${bar.question} [y/N]` : null;
    return (
      <Box width={size.columns} height={height} flexDirection="column" overflow="hidden">
        <Text wrap="truncate-end" bold>
          terminal too small: {size.columns}x{size.rows}
        </Text>
        <Text wrap="truncate-end">q quits</Text>
        <Text wrap="truncate-end">
          needs at least {MIN_COLUMNS}x{MIN_ROWS}
        </Text>
        {ask ? (
          <Text wrap="wrap" bold>
            {ask}
          </Text>
        ) : null}
      </Box>
    );
  }
  // Each route its own screen (state starts fresh): the key is given directly, as React wants it.
  const key = routeKey(route);
  switch (route.name) {
    case 'home':
      body = <HomeScreen key={key} initial={route.data} />;
      break;
    case 'form':
      body = <ParamForm key={key} checklist={route.checklist} />;
      break;
    case 'session':
      body = <SessionScreen key={key} controls={route.controls} />;
      break;
    case 'migrate':
      body = <MigrateScreen key={key} />;
      break;
    case 'replay':
      body = <ReplayScreen key={key} sessionId={route.sessionId} events={route.events} speed={route.speed} />;
      break;
  }
  return (
    <ThemeContext.Provider value={theme}>
      <UiContext.Provider value={ui}>
        <KeysContext.Provider value={keysRef}>
          <CommitContext.Provider value={committed}>
            <FrameContext.Provider value={{ help, helpScroll, helpMax, bar, message, rows: height }}>{body}</FrameContext.Provider>
          </CommitContext.Provider>
        </KeysContext.Provider>
      </UiContext.Provider>
    </ThemeContext.Provider>
  );
}

function routeKey(r: Route): string {
  switch (r.name) {
    case 'form':
      return `form:${r.checklist.id}`;
    case 'session':
      return `session:${r.controls.view().state.id}`;
    case 'replay':
      return `replay:${r.sessionId}`;
    default:
      return r.name;
  }
}
