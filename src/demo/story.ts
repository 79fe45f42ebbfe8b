/**
 * The demo's story on its home screen: release v1.4.0 → deploy to staging → deploy to production (the approval from
 * the demo's second person, with one key) → watch the panel → done, each step marked from the audit log (which of
 * these checklists has a finished session), and what to do next in words. Pure text: the home screen draws it
 * (src/tui/screens/HomeScreen.tsx, DemoStory), a plain renderer can print the same two lines.
 */

/** What the story reads of a session (the home screen's SessionEntry has it). */
export interface StorySession {
  checklist: string;
  /** `version=1.4.0 …` */
  params: string;
  /** `succeeded`, `aborted`, `failed (resumable)`, `waiting for a senior developer's approval (ben)` … */
  status: string;
  finished: boolean;
  running: boolean;
}

export type StoryMark = 'done' | 'next' | 'todo';

export interface Story {
  steps: Array<{ label: string; mark: StoryMark }>;
  /** What to do now, one sentence. */
  next: string;
  /** Every step done. */
  finished: boolean;
}

/** The version the story releases (the sandbox's develop is ahead of v1.3.0 with features). */
export const STORY_VERSION = '1.4.0';

const versionOf = (s: StorySession | undefined) => /(?:^|\s)version=(\S+)/.exec(s?.params ?? '')?.[1];
const succeeded = (sessions: readonly StorySession[], checklist: string) =>
  sessions.find((s) => s.checklist === checklist && s.status === 'succeeded');

/**
 * The story as the audit log has it. `senior`: the demo's approver's first name; `messages`: the command that prints
 * what the demo's chat and status page received.
 */
export function demoStory(sessions: readonly StorySession[], senior: string, messages: string): Story {
  const release = succeeded(sessions, 'release');
  const v = `v${versionOf(release) ?? STORY_VERSION}`;
  const staging = succeeded(sessions, 'deploy-staging');
  const production = succeeded(sessions, 'deploy-production');
  const rollback = succeeded(sessions, 'rollback-code');
  const open = sessions.find((s) => s.checklist === 'deploy-production' && !s.finished);
  // Rolled back: the watch breached and the code went back, said so (not "done" as if the release had stayed).
  const rolledBack = !!rollback && !production;
  const labels = [`release ${v}`, 'staging', 'production', rolledBack ? 'breach' : 'watch', rolledBack ? 'rolled back' : 'done'];
  // The steps done, in order: a rollback ends the story too (the watch breached, the code went back).
  const ended = !!production || !!rollback;
  const done = ended ? 5 : staging && release ? 2 : release ? 1 : 0;
  const steps = labels.map((label, i) => ({ label, mark: (i < done ? 'done' : i === done ? 'next' : 'todo') as StoryMark }));
  // Each sentence fits 80 columns with the default command (the message line cuts what does not).
  let next: string;
  if (rolledBack) next = `Done: ${v} was rolled back. Chat and status page: ${messages}`;
  else if (production) next = `Done: ${v} is live. Chat and status page: ${messages}`;
  else if (open?.status.startsWith('waiting for'))
    next = `Production waits for ${senior}'s approval: ↵ on its session, then A approves as ${senior}`;
  else if (open) next = 'Resume the production deploy (↵ on its session): the watch follows the switch';
  else if (!release) next = `Next: release ${v}: select the checklist 'release' below and press ↵`;
  else if (!staging) next = `Next: deploy ${v} to staging: select 'deploy-staging' below and press ↵`;
  else next = `Next: deploy ${v} to production ('deploy-production'): A gives ${senior}'s approval`;
  return { steps, next, finished: ended };
}

/** The story's steps as one line: `Story: ✔ release v1.4.0 → ▶ staging → production → watch → done`. */
export function storyStepsText(story: Story): string {
  const mark = { done: '✔ ', next: '▶ ', todo: '' } as const;
  return `Story: ${story.steps.map((s) => `${mark[s.mark]}${s.label}`).join(' → ')}`;
}
