import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import { resolveKey, type KeyPress, type Layer } from './keymap.js';
import { HomeScreen } from './screens/HomeScreen.js';
import { ParamForm } from './screens/ParamForm.js';
import { ReplayScreen } from './screens/ReplayScreen.js';
import { MigrateScreen } from './screens/MigrateScreen.js';
import { SessionScreen } from './screens/SessionScreen.js';
import { MIN_COLUMNS, MIN_ROWS, useTerminalSize } from './size.js';
import { ThemeContext, type Theme } from './theme.js';
import { FrameContext, KeysContext, UiContext, type Bar, type Route, type ScreenKeys, type Ui } from './context.js';

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
  const { isRawModeSupported } = useStdin();
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
  const helpRef = useRef(false);
  helpRef.current = help;
  const setBarNow = useCallback((next: Bar | null) => {
    barRef.current = next;
    setBar(next);
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
        setBarNow({ kind: 'prompt', label, value: '', required: required ?? null, secret: !!opts?.secret, onSubmit }),
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
    const q = keysRef.current?.quit?.() ?? null;
    const go = (then: () => Promise<void>) => {
      quitting.current = true;
      setMessage({ text: 'stopping…', tone: 'info' });
      void then().finally(() => finish(-1));
    };
    if (!q) return go(async () => undefined);
    setBarNow({ kind: 'dialog', question: q.question, onYes: () => go(q.then) });
  }, [finish, setBarNow]);

  const onInput = useCallback(
    (input: string, key: Key) => {
      const k = toKeyPress(input, key);
      const screen = keysRef.current;
      const b = barRef.current;
      const help = helpRef.current;
      const layers: Layer[] = [];
      if (help) layers.push('help');
      else if (b) layers.push(b.kind);
      if (screen && !help && !b) layers.push(screen.layer);
      layers.push('global');
      // Ctrl-C always means quit; while a bar is open, typed letters are text, not commands.
      const command = resolveKey(b?.kind === 'prompt' && !(key.ctrl && input === 'c') ? ['prompt'] : layers, k, (c) =>
        c.startsWith('help.') || c.startsWith('dialog.') || c.startsWith('prompt.') || c === 'quit'
          ? true
          : (screen?.available(c) ?? false),
      );
      if (command === 'help.open') return setHelpNow(true);
      if (command === 'help.close') return setHelpNow(false);
      if (command === 'quit') {
        setBarNow(null);
        return quit();
      }
      if (b?.kind === 'dialog') {
        if (command === 'dialog.yes') {
          setBarNow(null);
          b.onYes();
        } else if (command === 'dialog.no') setBarNow(null);
        return;
      }
      if (b?.kind === 'prompt') {
        if (command === 'prompt.cancel') return setBarNow(null);
        if (command === 'prompt.erase') return setBarNow({ ...b, value: b.value.slice(0, -1) });
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
        if (input && !key.ctrl && !key.meta && !key.escape)
          setBarNow({ ...b, value: b.value + input.replace(/[\r\n]/g, ' '), error: undefined });
        return;
      }
      if (help || !screen) return;
      if (command) {
        setMessage(null);
        return screen.onCommand(command);
      }
      if (input && !key.ctrl && !key.meta && screen.onText) screen.onText(input);
    },
    [quit, setBarNow, setHelpNow],
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
  const screenProps = { key: routeKey(route) };
  switch (route.name) {
    case 'home':
      body = <HomeScreen {...screenProps} initial={route.data} />;
      break;
    case 'form':
      body = <ParamForm {...screenProps} checklist={route.checklist} />;
      break;
    case 'session':
      body = <SessionScreen {...screenProps} controls={route.controls} />;
      break;
    case 'migrate':
      body = <MigrateScreen {...screenProps} />;
      break;
    case 'replay':
      body = <ReplayScreen {...screenProps} sessionId={route.sessionId} events={route.events} speed={route.speed} />;
      break;
  }
  return (
    <ThemeContext.Provider value={theme}>
      <UiContext.Provider value={ui}>
        <KeysContext.Provider value={keysRef}>
          <FrameContext.Provider value={{ help, bar, message, rows: height }}>{body}</FrameContext.Provider>
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
