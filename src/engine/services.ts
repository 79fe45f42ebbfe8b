import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { Clock } from '../adapters/clock.js';
import { sleepingClock } from '../adapters/clock.js';
import { repoFiles } from '../adapters/files.js';
import { gitReader } from '../adapters/git.js';
import { processStartTime, runCommand, type ShellRequest, type ShellResult } from '../adapters/shell.js';
import type { EventBody, NewEvent, PlanNode, StoredEvent } from '../core/events.js';
import type { SessionState } from '../core/reducer.js';
import type { WatchConfig } from '../core/watch/config.js';
import type { PrometheusPort } from '../core/watch/run.js';
import type { HttpCheckAnswer, HttpCheckRequest } from '../adapters/http-check.js';
import type { Decision, GitReader, MessageReview, ReleaseSettings, RepoFiles, ReviewDecision } from '../steps/types.js';
import type { OutputBuffer } from './output-buffer.js';
import { lineSplitter } from '../core/lines.js';
import { APPROVAL_NAMESPACE, type ApproversSettings } from '../core/approval.js';
import { sshVerify } from '../adapters/ssh-sign.js';
import type { EngineDeps } from './session.js';
import { cockpitCommand } from '../core/command-line.js';
import { lastStable } from './deploy-history.js';
import type { VerifyConfig } from '../core/verify.js';
import type { DeployConfig } from '../core/deploy/config.js';
import { environmentOf } from '../core/deploy/command.js';
import { DeployScript } from '../adapters/deploy-script.js';
import type { DeployFacts } from '../core/reducer.js';
import type { NotifySettings } from '../core/notify/config.js';
import type { NotifyHttpAnswer, NotifyHttpRequest } from '../core/notify/delivery.js';
import { sessionFacts } from '../core/notify/facts.js';
import type { ParamValue } from '../core/checklist/types.js';

/** What services are configured with (from cockpit.config.yaml): given to the engine once, read by the services below. */
export interface ServiceSettings {
  /** The `release:` settings (version files, remote, schedule), for the release step kinds. */
  release?: ReleaseSettings;
  /** The `watch:` settings (resolved), for the watch step kind. */
  watch?: WatchConfig;
  /** The `approvers:` settings, for the approve step kind. */
  approvers?: ApproversSettings;
  /** The `verify:` settings (test command, Day-2 scripts), for the verify step kind. */
  verify?: VerifyConfig;
  /** The `deploy:` settings (each environment's script, strategy, URLs, build, smoke checks), for the deploy step kinds. */
  deploy?: DeployConfig;
  /** The `notify:` channels (resolved), for the notify step kind. */
  notify?: NotifySettings;
}

/** What the services of one step are built from: the session (its deps, its log) and the step that runs. */
export interface ServiceScope {
  deps: EngineDeps;
  /** The step as loaded (what runs). */
  node: PlanNode;
  sessionId: string;
  output: OutputBuffer;
  /** The session as it is now (its plan as recorded: what the operator is shown). */
  state(): SessionState;
  emit(events: NewEvent[]): Promise<unknown>;
  /** Resolves when every append so far has been made (it does not throw: the runner reports write errors). */
  drained(): Promise<unknown>;
}

type RunRequest = Omit<ShellRequest, 'signal' | 'onOutput' | 'onSpawn'> & {
  /**
   * How each line the command writes to stdout is kept (shown live, in the audit log), when not as written: the
   * `migrate` step reads `cockpit migrate --json`'s events here and keeps them in words.
   */
  stdoutLine?: (line: string) => Array<{ stream: 'stdout' | 'stderr'; text: string }>;
};

/** How a recorded command ended, with the last line it wrote to stderr (as the audit log keeps it): most often why. */
export type RunResult = ShellResult & { lastStderrLine?: string };

/** How much of that line a failure's reason carries. */
const STDERR_LINE_CHARS = 240;

/**
 * Every service a step kind may declare in `needs`, and how it is built for a step. This is the one place a
 * service is declared: `Services` (what a kind receives) is derived from it. Only what a kind declares is built,
 * when its step runs; what is costly to load (axios for Prometheus) loads when it is first called.
 */
const factories = {
  /** Run a command, recorded (its pid durable before it starts, its output shown live and kept in the audit log). */
  run:
    (s: ServiceScope) =>
    async (req: RunRequest): Promise<RunResult> => {
      if (!existsSync(req.cwd) || !statSync(req.cwd).isDirectory()) {
        return {
          exitCode: null,
          signal: null,
          timedOut: false,
          aborted: false,
          spawnError: `working directory ${req.cwd} does not exist`,
          durationMs: 0,
        };
      }
      const command = req.argv ? req.argv.join(' ') : (req.script ?? '');
      const { stdoutLine, ...shell } = req;
      const stdoutLines = lineSplitter((l) => {
        for (const said of stdoutLine!(l)) s.output.push(said.stream, said.text);
      });
      let lastStderr = '';
      const stderrLines = lineSplitter((l) => {
        if (l.trim()) lastStderr = l;
      });
      const result = await runCommand({
        ...shell,
        signal: s.deps.signal,
        // The pid is durable before the command may start: a resume can always find what it left running.
        onSpawn: async (pid) => {
          await s.emit([
            {
              type: 'step.spawned',
              stepId: s.node.path,
              actor: 'cockpit',
              data: { pid, command, cwd: req.cwd, startTime: processStartTime(pid) },
            },
          ]);
        },
        onOutput: (stream, text) => {
          if (stream === 'stderr') stderrLines.push(text);
          return stream === 'stdout' && stdoutLine ? stdoutLines.push(text) : s.output.push(stream, text);
        },
      });
      stdoutLines.end();
      stderrLines.end();
      s.output.flush(true);
      await s.drained();
      const said = s.deps.store.clean(lastStderr).trim();
      return said
        ? { ...result, lastStderrLine: said.length > STDERR_LINE_CHARS ? `${said.slice(0, STDERR_LINE_CHARS - 1)}…` : said }
        : result;
    },
  /** Ask the operator (a prompt, or `--yes` when non-interactive). */
  confirm:
    (s: ServiceScope) =>
    (prompt: string): Promise<Decision> => {
      const state = s.state();
      // The operator sees the step as recorded and the prompt sanitised like everything else on screen.
      return s.deps.interaction.confirm(state.plan[state.index[s.node.path]] ?? s.node, s.deps.store.clean(prompt), state);
    },
  /**
   * Show the operator a message before it is sent (send, edit, skip, abort). A run without a screen or prompt to show
   * it on (`--non-interactive`, `--json`), and a step `--yes` names, get `unattended`: the message goes as rendered.
   */
  review:
    (s: ServiceScope) =>
    (message: MessageReview): Promise<ReviewDecision> => {
      const state = s.state();
      const node = state.plan[state.index[s.node.path]] ?? s.node;
      const review = s.deps.interaction.review;
      if (!review) return Promise.resolve({ decision: 'unattended', why: 'this run is not interactive' });
      // The operator sees it as the audit log keeps it: the channels' secrets redacted, control sequences neutralised.
      const clean = (t: string) => s.deps.store.clean(t);
      const shown = {
        ...message,
        title: clean(message.title),
        text: clean(message.text),
        channels: message.channels.map((c) => ({ ...c, shows: clean(c.shows) })),
      };
      // Sent as shown: the message itself goes, not its cleaned copy (which is no edit of the operator's).
      return review(node, shown, state).then((d) =>
        d.decision === 'send' && d.text.trim() === shown.text.trim() ? { ...d, text: message.text } : d,
      );
    },
  /** Read-only git queries on the session's repository. */
  git: (s: ServiceScope): GitReader => gitReader(s.deps.repoDir),
  /** Files of the session's repository, by path relative to it. */
  files: (s: ServiceScope): RepoFiles => repoFiles(s.deps.repoDir),
  /** How to run this cockpit as a command (node and its bin), for steps that use its own commands. */
  self: (): string[] => [process.execPath, path.join(packageRoot(), 'bin', 'cockpit.js')],
  /** Text for the step's output (shown live, kept in the audit log), as a command's output is. */
  log:
    (s: ServiceScope) =>
    (text: string): void =>
      s.output.push('stdout', text.endsWith('\n') ? text : `${text}\n`),
  /** The `release:` part of cockpit.config.yaml (version files, remote, branches), when there is one. */
  release: (s: ServiceScope): ReleaseSettings => s.deps.settings?.release ?? {},
  /** The `verify:` part of cockpit.config.yaml (the test command, the Day-2 scripts), when there is one. */
  verify: (s: ServiceScope): VerifyConfig | undefined => s.deps.settings?.verify,
  /** Record events of this step (durable before the promise settles, shown live like any event). */
  record:
    (s: ServiceScope) =>
    async (events: Array<EventBody & { time?: number; actor?: string }>): Promise<void> => {
      s.output.flush(true);
      // The cockpit by default; a person for what they decided (a notify step's "send it again").
      await s.emit(events.map((e) => ({ ...e, stepId: s.node.path, actor: e.actor ?? 'cockpit' }) satisfies NewEvent));
    },
  /** This step's events so far in the session, earlier attempts included (a resumed watch continues its hour). */
  /** This step's recorded events (from `fromSeq` on: a step that polls reads only what is new). */
  history:
    (s: ServiceScope) =>
    async (fromSeq = 1): Promise<StoredEvent[]> => {
      await s.drained();
      return (await s.deps.store.readEvents(s.sessionId, fromSeq)).filter((e) => e.stepId === s.node.path);
    },
  /** The `watch:` part of cockpit.config.yaml (resolved: defaults from the policy), when it loads. */
  watch: (s: ServiceScope): WatchConfig | undefined => s.deps.settings?.watch,
  /** A Prometheus client for the watch (its secrets resolved from the environment), or why there is none. */
  prometheus:
    (s: ServiceScope) =>
    // Loaded when a watch runs: axios costs start-up time every other command would pay for nothing.
    async (config: WatchConfig): Promise<{ client: PrometheusPort & { close(): void } } | { error: string }> =>
      (await import('./prometheus.js')).openPrometheus(config, s.deps.store),
  /** One HTTP request of a smoke check: status, latency and body, or why no answer came (loaded when a smoke step runs). */
  http:
    () =>
    async (req: HttpCheckRequest): Promise<HttpCheckAnswer> =>
      (await import('../adapters/http-check.js')).httpCheck(req),
  /** Wait (cut short by a stop). */
  sleep:
    () =>
    (ms: number, signal: AbortSignal): Promise<void> =>
      sleepingClock.sleep(ms, signal),
  /**
   * Approvals: the config's `approvers:` (undefined without one), who runs the session (none of them may approve),
   * and the check of an approval's SSH signature against the allowed-signers file.
   */
  approvals: (s: ServiceScope) => ({
    settings: s.deps.settings?.approvers,
    operator: s.deps.identity.operator,
    /** `cockpit approve <session>` as the approver runs it (built like every printed command). */
    approveCommand: () => (s.deps.command ?? cockpitCommand)(['approve', s.sessionId]),
    /** What is approved: this session, its checklist as loaded, who started it. */
    subject: () => {
      const state = s.state();
      return { session: s.sessionId, checklistSha256: state.checklist.sha256, operator: state.operator };
    },
    verify: (allowedSigners: string, principal: string, text: string, signature: string) =>
      sshVerify(allowedSigners, principal, APPROVAL_NAMESPACE, text, signature),
  }),
  /**
   * The deploy history of the audit log (engine/deploy-history.ts): the last stable version of an environment and why
   * (the newest deploy there whose post-deploy watch passed and that no rollback went back from), or null when the log
   * has none (the rollback step then takes the previous release tag, and says so).
   */
  deployHistory: (s: ServiceScope) => ({
    lastStable: (env: string) => lastStable(s.deps.store, env),
  }),
  /**
   * Deploys: the config's `deploy:`, an environment's deploy script (its commands recorded as this step's, like
   * `run`'s), and what this session's steps did there so far (the switch goes to the colour the deploy step used).
   */
  deploy: (s: ServiceScope) => ({
    settings: s.deps.settings?.deploy,
    script: (name: string, env: Record<string, string>): DeployScript =>
      new DeployScript({ run: factories.run(s), repoDir: s.deps.repoDir, env, name, config: environmentOf(s.deps.settings?.deploy, name) }),
    facts: (name: string): DeployFacts => s.state().deploys?.[name] ?? {},
  }),
  /**
   * Notifications: the config's `notify:` channels (undefined without one), what the session knows for its messages,
   * the delivery's key, the environment the channels' secrets come from, and one HTTP request (loaded when used).
   */
  notify: (s: ServiceScope) => ({
    settings: s.deps.settings?.notify,
    facts: (params: Record<string, ParamValue>) => sessionFacts(s.state(), params, s.deps.clock.now()),
    key: (channel: string) => `${s.sessionId}/${s.node.path}/${channel}`,
    env: process.env as Readonly<Record<string, string | undefined>>,
    request: async (req: NotifyHttpRequest): Promise<NotifyHttpAnswer> =>
      (await import('../adapters/notify.js')).spacedNotifyRequest(req, s.deps.signal),
  }),
  /** The session's clock. */
  clock: (s: ServiceScope): Clock => s.deps.clock,
  /**
   * Commands a step's advice names, as the operator runs them (built like every printed command: `--repo` when
   * elsewhere, quoted), and the session they are about.
   */
  commands: (s: ServiceScope) => ({ session: s.sessionId, line: (args: string[]): string => (s.deps.command ?? cockpitCommand)(args) }),
  /** Text as the audit log would keep it (secrets redacted, control sequences neutralised), for text a step writes elsewhere. */
  clean:
    (s: ServiceScope) =>
    (text: string): string =>
      s.deps.store.clean(text),
};

/** What a step kind can be given, by name: a kind declares the ones it uses (`needs`) and receives only those. */
export type Services = { [K in keyof typeof factories]: ReturnType<(typeof factories)[K]> };
export type ServiceName = keyof Services;

const build: { [K in ServiceName]: (s: ServiceScope) => Services[K] } = factories;

function service<K extends ServiceName>(name: K, scope: ServiceScope): Services[K] {
  return build[name](scope);
}

/** The services `needs` names, built for one step, and nothing else. */
export function provideServices<N extends ServiceName>(scope: ServiceScope, needs: readonly N[]): Pick<Services, N> {
  const out: Partial<Pick<Services, N>> = {};
  for (const name of needs) out[name] = service(name, scope);
  // Every name in needs was set just above.
  return out as Pick<Services, N>;
}
