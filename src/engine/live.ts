import { CockpitError } from '../core/errors.js';
import type { NewEvent, PlanNode } from '../core/events.js';
import type { IssueUpdateOffer } from '../core/notify/issue-update.js';
import { nextStep, type SessionState } from '../core/reducer.js';
import type { Decision, MessageReview, ReviewDecision } from '../steps/types.js';
import {
  abortSession,
  commandOf,
  recordingDeps,
  resumeSession,
  withStoppedSession,
  type BaseDeps,
  type EngineDeps,
  type ResumeInput,
  type RunResult,
  type SessionRunner,
} from './session.js';

export type LivePhase = 'starting' | 'running' | 'asking' | 'stopping' | 'paused' | 'finished';

export interface LiveView {
  state: SessionState;
  phase: LivePhase;
  /** `review`: the step asks about a message it is about to send (shown; ↵ sends it, e edits it). */
  asking: { path: string; prompt: string; review?: MessageReview } | null;
  message: { text: string; tone: 'info' | 'error' } | null;
}

/** What a live session needs from its surroundings: the engine's deps (less what the session owns) and how to reload its checklist. */
export interface LiveDeps extends BaseDeps {
  reload: ResumeInput['current'];
  /** Steps `--yes` confirmed in advance: they pass without asking, recorded as confirmed by flag. */
  preconfirmed?(node: PlanNode): boolean;
  /** How often the screen may be told about new events (the data layer throttles, not only Ink). */
  notifyMs?: number;
  /** The operator's "issue or delay" update (app/issue-update.ts): only with `notify:` channels. */
  updates?: IssueUpdates;
}

/** The "issue or delay" update a session screen offers (`u`): what would be sent now, and sending it (recorded through `emit`). */
export interface IssueUpdates {
  offer(state: SessionState, now: number): IssueUpdateOffer | null;
  /** `signal`: the operator quit; a delivery stops between tries (what was recorded stays: a sending without an outcome). */
  send(
    offer: IssueUpdateOffer,
    text: string,
    emit: (events: NewEvent[]) => Promise<unknown>,
    signal: AbortSignal,
  ): Promise<{ text: string; tone: 'info' | 'error' }>;
}

/**
 * A session driven from the full-screen cockpit. The engine runs the steps; the operator's keys arrive here as
 * intents (proceed, skip, abort, note, stop) and become what the line-mode driver would do: an answer to the
 * pending confirmation, or a resume / abort / note of the stopped session. Every state shown is `reduce(events)`
 * after the events are durable.
 */
export class LiveSession {
  private listeners = new Set<() => void>();
  private snapshot: LiveView;
  private runner: SessionRunner | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private abortController = new AbortController();
  /** The open question; a message's review takes the text to send with a yes (the operator's edit, or as shown). */
  private pending: { node: PlanNode; prompt: string; resolve(d: Decision, text?: string): void } | null = null;
  private notifyTimer: NodeJS.Timeout | null = null;
  private result: RunResult | null = null;
  private abortReason: string | null = null;
  private busy = false;
  /** The intent being carried out (a resume starting, a note or an abort being recorded): a quit waits for it. */
  private acting: Promise<void> = Promise.resolve();
  /** Secret parameters (never stored): a retry or continue resumes the session and must be told them again. */
  private secrets: Record<string, string> = {};
  /** The operator quit: whatever the engine says, the session was stopped on purpose (exit 3, resumable). */
  private quit = false;
  /** Issue updates being sent (`sendIssueUpdate`), and their stop on quit. */
  private sending: Promise<void> = Promise.resolve();
  private updateStop = new AbortController();
  /** Held while the operator is asked whether to quit: the engine waits here before its next step. */
  private held: { until: Promise<void>; go(): void } | null = null;

  private constructor(
    private readonly deps: LiveDeps,
    state: SessionState,
  ) {
    this.snapshot = { state, phase: 'starting', asking: null, message: null };
  }

  /**
   * Start or resume (`open` creates the runner, from startSession or resumeSession, with the deps it is given) and run
   * until it stops. app/run.ts's startRun and resumeRun hand the screens their `open`.
   */
  static async start(
    deps: LiveDeps,
    open: (engine: EngineDeps) => Promise<SessionRunner>,
    secrets: Record<string, string> = {},
  ): Promise<LiveSession> {
    let live: LiveSession | null = null;
    const engine = LiveSession.engineDeps(deps, () => live);
    const runner = await open(engine);
    live = new LiveSession(deps, runner.state);
    live.secrets = secrets;
    live.abortController = engine.abort;
    live.loop(runner);
    return live;
  }

  private static engineDeps(deps: LiveDeps, live: () => LiveSession | null): EngineDeps & { abort: AbortController } {
    const abort = new AbortController();
    return {
      ...deps,
      abort,
      signal: abort.signal,
      interaction: {
        confirm: (node, prompt) => live()?.ask(node, prompt) ?? Promise.resolve({ decision: 'unavailable', hint: '' }),
        review: (node, message) => live()?.review(node, message) ?? Promise.resolve({ decision: 'unavailable', hint: '' }),
      },
      onEvent: (_e, state) => live()?.update(state),
      gate: async () => live()?.held?.until,
    };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  view = (): LiveView => this.snapshot;

  private set(patch: Partial<LiveView>, now = false): void {
    this.snapshot = { ...this.snapshot, ...patch };
    if (now) return this.notify();
    // Output arrives in bursts: tell the screen at most every notifyMs; phase changes are told at once.
    this.notifyTimer ??= setTimeout(() => this.notify(), this.deps.notifyMs ?? 33);
  }

  private notify(): void {
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    for (const l of this.listeners) l();
  }

  private update(state: SessionState): void {
    this.set({ state });
  }

  private ask(node: PlanNode, prompt: string): Promise<Decision> {
    if (this.deps.preconfirmed?.(node)) return Promise.resolve({ decision: 'yes', by: this.deps.identity.operator, via: 'flag' });
    return new Promise((resolve) => {
      this.pending = { node, prompt, resolve };
      this.set({ phase: 'asking', asking: { path: node.path, prompt } }, true);
    });
  }

  /** A message a step is about to send: shown on the screen until the operator sends (as shown or edited), skips or aborts. */
  private review(node: PlanNode, message: MessageReview): Promise<ReviewDecision> {
    if (this.deps.preconfirmed?.(node)) return Promise.resolve({ decision: 'unattended', why: '--yes names the step' });
    const to = message.channels.map((c) => c.name).join(', ');
    const prompt = `send '${message.title}' to ${to} as shown below? (e edits it first)`;
    return new Promise((resolve) => {
      this.pending = {
        node,
        prompt,
        resolve: (d, text) => resolve(d.decision === 'yes' ? { decision: 'send', by: d.by, via: 'prompt', text: text ?? message.text } : d),
      };
      this.set({ phase: 'asking', asking: { path: node.path, prompt, review: message } }, true);
    });
  }

  private answer(d: Decision, text?: string): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.set({ phase: 'running', asking: null }, true);
    p.resolve(d, text);
  }

  /** Send the message the step shows with `text` (the operator's edit of it; recorded as edited when it differs). */
  send = (text: string): void => {
    if (!this.pending || !this.snapshot.asking?.review || !text.trim()) return;
    this.answer({ decision: 'yes', by: this.deps.identity.operator, via: 'prompt' }, text);
  };

  private loop(runner: SessionRunner): void {
    this.runner = runner;
    this.result = null;
    this.set({ state: runner.state, phase: 'running', asking: null }, true);
    this.loopDone = runner.run().then(
      async (result) => {
        this.runner = null;
        this.result = result;
        // An abort asked for while a command ran: the step stopped first, now the session is closed for good.
        if (this.abortReason && !result.state.outcome) {
          const reason = this.abortReason;
          this.abortReason = null;
          return this.abortStopped(reason);
        }
        const text = this.quit
          ? `stopped; the session can be resumed: ${commandOf(this.deps)(['resume', result.state.id])}`
          : result.message;
        this.settle(result.state, { text, tone: result.exitCode === 1 && !this.quit ? 'error' : 'info' });
      },
      (e: Error) => {
        this.runner = null;
        this.settle(this.snapshot.state, { text: e.message, tone: 'error' });
      },
    );
  }

  private settle(state: SessionState, message: LiveView['message']): void {
    this.set({ state, phase: state.outcome ? 'finished' : 'paused', asking: null, message }, true);
  }

  /** Run `fn` unless another intent is being carried out; report its failure on screen. */
  private act(fn: () => Promise<void>): void {
    if (this.busy) return;
    this.busy = true;
    this.acting = fn()
      .catch((e: Error) =>
        this.set({ message: { text: e instanceof CockpitError ? e.message : `internal error: ${e.message}`, tone: 'error' } }, true),
      )
      .finally(() => {
        this.busy = false;
      });
  }

  private restart(skip?: { step: string; reason: string }): void {
    this.act(async () => {
      this.abortController = new AbortController();
      this.set({ phase: 'starting', message: null }, true);
      const engine = LiveSession.engineDeps(this.deps, () => this);
      try {
        const runner = await resumeSession(engine, {
          sessionId: this.snapshot.state.id,
          current: this.deps.reload,
          force: false,
          skip,
          params: this.secrets,
        });
        this.abortController = engine.abort;
        this.loop(runner);
      } catch (e) {
        this.settle(this.snapshot.state, { text: (e as Error).message, tone: 'error' });
      }
    });
  }

  proceed = (note?: string): void => {
    if (this.pending) return this.answer({ decision: 'yes', by: this.deps.identity.operator, via: 'prompt', ...(note ? { note } : {}) });
    if (this.snapshot.phase === 'paused') this.restart();
  };

  skip = (reason: string): void => {
    if (!reason.trim()) return;
    if (this.pending) return this.answer({ decision: 'skip', by: this.deps.identity.operator, reason });
    if (this.snapshot.phase !== 'paused') return;
    const s = this.snapshot.state;
    const step = s.pause?.stepId ?? nextStep(s)?.path;
    if (step) this.restart({ step, reason });
  };

  abort = (reason: string): void => {
    if (!reason.trim() || this.snapshot.state.outcome) return;
    if (this.pending) return this.answer({ decision: 'abort', by: this.deps.identity.operator, reason });
    if (this.runner) {
      this.abortReason = reason;
      this.set({ phase: 'stopping' }, true);
      this.abortController.abort();
      return;
    }
    this.act(() => this.abortStopped(reason));
  };

  private async abortStopped(reason: string): Promise<void> {
    try {
      const state = await abortSession(this.engineBase(), this.snapshot.state.id, reason);
      this.settle(state, { text: `session aborted: ${reason}`, tone: 'info' });
    } catch (e) {
      this.settle(this.snapshot.state, { text: (e as Error).message, tone: 'error' });
    }
  }

  note = (text: string, stepId: string | null): void => {
    if (!text.trim()) return;
    if (this.runner) {
      void this.runner.addNote(text, stepId).catch((e: Error) => this.set({ message: { text: e.message, tone: 'error' } }, true));
      return;
    }
    this.act(async () => {
      const state = await withStoppedSession(this.engineBase(), this.snapshot.state.id, 'note', (r) => r.addNote(text, stepId));
      this.set({ state, message: { text: 'note recorded', tone: 'info' } }, true);
    });
  };

  /** The "issue or delay" update this session may send now (null: nothing failed or breached, or no `notify:` channels). */
  issueUpdate = (): IssueUpdateOffer | null => this.deps.updates?.offer(this.snapshot.state, this.deps.clock.now()) ?? null;

  /**
   * Send the update with `text` (as rendered, or as the operator edited it): recorded in the running session, or on
   * the stopped one under its lock; what it did is said on the message line.
   */
  sendIssueUpdate = (offer: IssueUpdateOffer, text: string): Promise<void> => {
    const updates = this.deps.updates;
    if (!updates || !text.trim()) return Promise.resolve();
    this.set(
      { message: { text: `sending '${offer.message.title}' to ${offer.channels.map((c) => c.name).join(', ')}…`, tone: 'info' } },
      true,
    );
    const said = (m: { text: string; tone: 'info' | 'error' }) => this.set({ message: m }, true);
    const runner = this.runner;
    const signal = this.updateStop.signal;
    const done = runner
      ? updates.send(offer, text, (events) => runner.emit(events), signal).then(said)
      : withStoppedSession(this.engineBase(), this.snapshot.state.id, 'issue update', async (r) => {
          said(await updates.send(offer, text, (events) => r.emit(events), signal));
        }).then((state) => this.set({ state }, true));
    const sent = done.catch((e: Error) =>
      this.set({ message: { text: e instanceof CockpitError ? e.message : `internal error: ${e.message}`, tone: 'error' } }, true),
    );
    // A quit waits for it: the delivery stops between tries, and what it did is recorded before the process ends.
    this.sending = this.sending.then(() => sent);
    return sent;
  };

  /** The operator is asked whether to quit: the step that runs goes on and is recorded; the next one waits. */
  hold = (): void => {
    if (this.held) return;
    let go = () => {};
    const until = new Promise<void>((r) => (go = r));
    this.held = { until, go };
  };

  /** The operator said no: the run goes on. */
  release = (): void => {
    const h = this.held;
    this.held = null;
    h?.go();
  };

  /** Quit: stop the running step, or leave the question open; the session stays resumable. */
  stop = async (): Promise<void> => {
    this.quit = true;
    // A run held between two steps sees the stop first, then leaves its wait (the next step never starts).
    if (this.held) {
      this.abortController.abort();
      this.release();
    }
    // A resume that is starting ends in a running loop, stopped just below; a note or abort being written lands first.
    await this.acting;
    this.updateStop.abort();
    await this.sending;
    if (this.pending) {
      this.abortController.abort();
      this.answer({ decision: 'unavailable', hint: commandOf(this.deps)(['resume', this.snapshot.state.id]) });
    } else if (this.runner) {
      this.set({ phase: 'stopping' }, true);
      this.abortController.abort();
    }
    await this.loopDone;
    this.notify();
  };

  exitCode = (): number => {
    const s = this.snapshot.state;
    if (s.outcome === 'succeeded') return 0;
    if (s.outcome === 'failed') return 1;
    if (s.outcome === 'aborted' || this.quit) return 3;
    if (this.result) return this.result.exitCode;
    return s.status === 'failed' ? 1 : 3;
  };

  /** Deps for recording on the stopped session (a note, an abort): nothing runs, nothing is asked. */
  private engineBase(): EngineDeps {
    return recordingDeps(this.deps, (_e, state) => this.update(state));
  }
}
