import { createContext, useContext, useLayoutEffect } from 'react';
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
  /** A text field has the focus: character keys (q, ?, j) are typed into it, not commands; ctrl-c still quits. */
  typing?: boolean;
  /** That text field is empty: `?` opens the help there (nothing typed to lose; F1 opens it from any field). */
  empty?: boolean;
  /**
   * A question to ask before quitting (something runs), what to do once the operator says yes, and the run held
   * while the question is open (`hold`: the step that runs goes on, the next does not start; `release` on no).
   */
  quit?(): { question: string; then(): Promise<void>; hold?(): void; release?(): void } | null;
  /** The process's exit code if the cockpit quits now (README, "Exit codes"); 0 when not given. */
  exitCode?(): number;
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
      /** Told every change as the operator types (a filter that applies as you type). */
      onChange?(value: string): void;
      onCancel?(): void;
    }
  | {
      kind: 'dialog';
      question: string;
      onYes(): void;
      /** The question closed without a yes. */
      onNo?(): void;
      /** It is the quit question: quit again would only ask it again, so it is not offered. */
      quit?: boolean;
    };

export interface Ui {
  /** Ask a yes/no question in the message line (no is the default). */
  ask(question: string, onYes: () => void): void;
  /** Ask for a line of text; `required` is the complaint when it is left empty; a `secret` is shown as dots. */
  prompt(
    label: string,
    onSubmit: (value: string) => void,
    required?: string,
    opts?: { secret?: boolean; value?: string; onChange?(value: string): void; onCancel?(): void },
  ): void;
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
/** Told after every commit of a screen's frame: a key waiting behind another is handled once that one is drawn. */
export const CommitContext = createContext<(() => void) | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error('useUi outside <App>');
  return ui;
}

/** A screen registers its key handling here; the one root useInput routes to it. */
export function useScreenKeys(keys: ScreenKeys): void {
  const ref = useContext(KeysContext);
  if (ref) ref.current = keys;
  const committed = useContext(CommitContext);
  useLayoutEffect(() => committed?.());
}

/** What the frame draws around a screen: the help overlay, the question or prompt bar, the message line. */
export const FrameContext = createContext<{
  help: boolean;
  /** Lines the help overlay is scrolled down by (when the keys do not fit). */
  helpScroll: number;
  /** How far the help can scroll (the frame knows its lines and its room; the root handler stops there). */
  helpMax: { current: number };
  bar: Bar | null;
  message: { text: string; tone: 'info' | 'error' } | null;
  rows: number;
}>({
  help: false,
  helpScroll: 0,
  helpMax: { current: 0 },
  bar: null,
  message: null,
  rows: 29,
});
