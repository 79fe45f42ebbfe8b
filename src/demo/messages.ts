/**
 * `cockpit demo --messages`: what the demo's chat and status page received (./receivers.ts), in order, as a reader
 * sees them in the channel and on the page, then the status page's components as they are now. Read from the
 * receiver's files, so it works while the demo runs and after it stopped. Text from the messages is neutralised
 * (terminal controls shown, never acted on).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { neutralize } from '../core/sanitize.js';
import { MESSAGES_FILE, receiversDir, STATUSPAGE_FILE } from './receivers.js';
import { RESOLVED_STATUSES, statusWords, type StatusPageState } from './receivers-core.js';

export interface DemoMessage {
  time: string;
  channel: string;
  text: string;
}

/** The messages recorded so far, oldest first (a line cut short by a crash is left out). */
export function readMessages(stateDir: string): DemoMessage[] {
  const file = path.join(receiversDir(stateDir), MESSAGES_FILE);
  if (!existsSync(file)) return [];
  const out: DemoMessage[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as DemoMessage;
      if (typeof m.time === 'string' && typeof m.channel === 'string' && typeof m.text === 'string') out.push(m);
    } catch {
      // A partial last line.
    }
  }
  return out;
}

export function readStatusPage(stateDir: string): StatusPageState | null {
  try {
    return JSON.parse(readFileSync(path.join(receiversDir(stateDir), STATUSPAGE_FILE), 'utf8')) as StatusPageState;
  } catch {
    return null;
  }
}

const CHANNEL_WIDTH = 'status page'.length;

/** The messages and the status page as text (what `cockpit demo --messages` prints). */
export function messagesText(stateDir: string): string {
  const messages = readMessages(stateDir);
  const page = readStatusPage(stateDir);
  const lines: string[] = [];
  if (!messages.length)
    lines.push(
      "The demo's chat and status page have received nothing yet: the communication steps of a deploy post to them (cockpit demo starts them).",
    );
  else {
    lines.push(`What the demo's chat and status page received (${messages.length}, times in UTC):`, '');
    for (const m of messages) {
      const [first, ...rest] = neutralize(m.text).split('\n');
      const time = m.time.slice(11, 19);
      const indent = ' '.repeat(time.length + 2 + CHANNEL_WIDTH + 2);
      lines.push(`${time}  ${neutralize(m.channel).padEnd(CHANNEL_WIDTH)}  ${first}`);
      for (const l of rest) lines.push(l.trim() ? `${indent}${l}` : '');
      lines.push('');
    }
  }
  if (page) {
    const comps = page.components.map((c) => `${neutralize(c.name)}: ${statusWords(c.status)}`).join(' · ');
    const open = page.incidents.filter((i) => !RESOLVED_STATUSES.has(i.status));
    lines.push(
      `Status page now: ${comps || 'no components'}${
        open.length ? ` (open: ${open.map((i) => `'${neutralize(i.name)}' ${statusWords(i.status)}`).join(', ')})` : ''
      }`,
    );
  }
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/** `cockpit demo --messages` for the sandbox in `dir`. */
export function printMessages(dir: string, write: (s: string) => void = (s) => void process.stdout.write(s)): number {
  write(messagesText(path.join(dir, '.sandbox', 'demo')));
  return 0;
}
