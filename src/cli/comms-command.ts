/** `cockpit comms`: the pre-release messages of the next scheduled release, when each is due, and whether it was sent. */
import { dayTime, dueText } from '../core/notify/due.js';
import { nextSlot } from '../core/release/slot.js';
import { neutralize } from '../core/sanitize.js';
import { readDue } from './comms.js';
import { Workspace, type GlobalOptions } from './setup.js';

export async function cmdComms(g: GlobalOptions, flags: { json?: boolean }): Promise<number> {
  const now = Date.now();
  const ws = new Workspace(g);
  const schedule = ws.config.release?.schedule;
  const store = await ws.openStore({ readOnly: true });
  const due = await readDue(store, schedule, now);
  const version = due[0]?.version ?? null;
  const send = ws.command(['run', 'communication', '-p', 'phase=pre-release', ...(version ? ['-p', `version=${version}`] : [])]);
  const unsent = due.some((d) => !d.sent);
  if (flags.json) {
    const json = {
      schedule: schedule ? { release: new Date(nextSlot(schedule, now).release).toISOString() } : null,
      version,
      messages: due.map((d) => ({
        message: d.message,
        due: new Date(d.due).toISOString(),
        untilMs: d.due - now,
        state: d.state,
        sent: d.sent ? { at: new Date(d.sent.at).toISOString(), session: d.sent.sessionId } : null,
        text: dueText(d, now),
      })),
      ...(unsent ? { command: send } : {}),
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  if (!schedule) {
    process.stdout.write(
      `no release.schedule in ${ws.configFile}: no message is due on a schedule.\n  With one (release: {schedule: {every: 14d, anchor: <a past release>}}), the release announcement is due 48 h and the maintenance window 24 h before each release.\n`,
    );
    return 0;
  }
  const lines = [`Next release ${version ? `v${version.replace(/^v/, '')} ` : ''}${dayTime(due[0].release)}: pre-release messages`];
  for (const d of due) lines.push(`  ${d.sent ? '✔' : d.state === 'overdue' ? '!' : '○'} ${dueText(d, now)}`);
  if (unsent) {
    lines.push('', `Send them: ${send}`);
    if (!version)
      lines.push('  (name the version with -p version=X.Y.Z: no release or communication session since the last release names it)');
  }
  process.stdout.write(neutralize(lines.join('\n')) + '\n');
  return 0;
}
