import { createContext, useContext } from 'react';
import type { AuditEvent } from '../core/events.js';
import type { Command, Layer } from './keymap.js';
import type { AppServices, ChecklistEntry, HomeData, SessionControls } from './types.js';

/**
 * What the screens share with the root (App.tsx) without importing it: the routes, the Ui a screen asks questions
 * and navigates through, how a screen tells the root input handler its keys, and the frame's state.
 */
export type Route =
  | { name: 'home'; /** Read before the first frame (start-up: one render instead of two). */ data?: HomeData }
  | { name: 'form'; checklist: ChecklistEntry }
  | { name: 'session'; controls: SessionControls }
  | { name: 'replay'; sessionId: string; events: AuditEvent[]; speed?: number }
  | { name: 'migrate' };

/** What a screen tells the root input handler: its layer, which commands act now, and what they do. */
export interface ScreenKeys {
  layer: Layer;
  available(command: Command): boolean;
  onCommand(command: Command): void;
  /** Typed characters no binding took (the parameter form). */
  onText?(text: string): void;
  /** A question to ask before quitting (a step runs), and what to do once the operator says yes. */
  quit?(): { question: string; then(): Promise<void> } | null;
  mode: string;
}

export type Bar =
  | {
      kind: 'prompt';
      label: string;
      value: string;
      required: string | null;
      error?: string;
      secret?: boolean;
      onSubmit(value: string): void;
    }
  | { kind: 'dialog'; question: string; onYes(): void };

export interface Ui {
  /** Ask a yes/no question in the message line (no is the default). */
  ask(question: string, onYes: () => void): void;
  /** Ask for a line of text; `required` is the complaint when it is left empty; a `secret` is shown as dots. */
  prompt(label: string, onSubmit: (value: string) => void, required?: string, opts?: { secret?: boolean }): void;
  flash(text: string, tone?: 'info' | 'error'): void;
  go(route: Route): void;
  /** A screen has its content on screen (the start-up benchmark measures up to here). */
  ready(): void;
  services: AppServices;
  width: number;
  /** Rows for a screen's body (between its own header and the two footer lines). */
  height: number;
}

export const UiContext = createContext<Ui | null>(null);
export const KeysContext = createContext<{ current: ScreenKeys | null } | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error('useUi outside <App>');
  return ui;
}

/** A screen registers its key handling here; the one root useInput routes to it. */
export function useScreenKeys(keys: ScreenKeys): void {
  const ref = useContext(KeysContext);
  if (ref) ref.current = keys;
}

/** What the frame draws around a screen: the help overlay, the question or prompt bar, the message line. */
export const FrameContext = createContext<{
  help: boolean;
  bar: Bar | null;
  message: { text: string; tone: 'info' | 'error' } | null;
  rows: number;
}>({
  help: false,
  bar: null,
  message: null,
  rows: 29,
});
