/**
 * What a deploy script's `status --env E --json` says, parsed with zod into one type. The script is not trusted:
 * output that is not one JSON object of this shape, or a live colour that is not running, is a failure naming the
 * script, never a guess.
 *
 *   blue-green: {"live": "blue" | "green" | null, "url": "…", "colours": {"blue": {"version": "1.4.0" | null,
 *                "healthy": true, "url": "…"}, "green": {…}}}
 *   in-place:   {"version": "1.4.0" | null, "healthy": true, "url": "…"}
 *
 * Other fields (pids, the proxy …) are allowed and ignored. A script of a blue-green environment may print the
 * in-place fields too (the demo's does: the live colour's); the cockpit reads what the environment's strategy needs.
 */
import { z } from 'zod';

export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];
export const otherColour = (c: Colour): Colour => (c === 'blue' ? 'green' : 'blue');
export const isColour = (v: unknown): v is Colour => v === 'blue' || v === 'green';

const versionText = z.string().min(1).max(200).nullable();
const urlText = z
  .string()
  .regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL')
  .nullable()
  .optional();

const colourStatus = z.object({ version: versionText, healthy: z.boolean(), url: urlText });

const blueGreenStatus = z.object({
  live: z.enum(COLOURS).nullable(),
  url: urlText,
  colours: z.object({ blue: colourStatus, green: colourStatus }),
});

const inPlaceStatus = z.object({ version: versionText, healthy: z.boolean(), url: urlText });

export interface ColourStatus {
  version: string | null;
  healthy: boolean;
  url: string | null;
}

/** One type for both strategies: `live` and `colours` for blue-green; `version`/`healthy` for in-place (the live colour's for blue-green). */
export type DeployStatus =
  | { strategy: 'blue-green'; live: Colour | null; url: string | null; colours: Record<Colour, ColourStatus> }
  | { strategy: 'in-place'; version: string | null; healthy: boolean; url: string | null };

export type StatusParse = { ok: true; status: DeployStatus } | { ok: false; problem: string };

/**
 * The JSON object in the output: from a line that starts with `{` to the end (a script may say something before its
 * JSON; jq prints it over several lines). The first such start whose rest parses; else the last one, to say why.
 */
function jsonText(stdout: string): { text: string; value: unknown } | { text: string; error: string } | null {
  const lines = stdout.split('\n');
  const starts = lines.flatMap((l, i) => (l.trimStart().startsWith('{') ? [i] : []));
  let last: { text: string; error: string } | null = null;
  for (const i of starts) {
    const text = lines.slice(i).join('\n').trim();
    try {
      return { text, value: JSON.parse(text) as unknown };
    } catch (e) {
      last = { text, error: (e as Error).message };
    }
  }
  return last;
}

function zodProblem(e: z.ZodError): string {
  const issue = e.issues[0];
  return `${issue.path.join('.') || 'the object'}: ${issue.message}`;
}

/** The status of an environment of the given strategy, from the script's stdout, or what is wrong with it. */
export function parseStatus(stdout: string, strategy: 'in-place' | 'blue-green'): StatusParse {
  const found = jsonText(stdout);
  if (found === null) return { ok: false, problem: 'it printed no JSON object' };
  if ('error' in found) return { ok: false, problem: `its JSON does not parse (${found.error})` };
  const value = found.value;
  if (strategy === 'in-place') {
    const r = inPlaceStatus.safeParse(value);
    if (!r.success) return { ok: false, problem: `not an in-place status (${zodProblem(r.error)})` };
    return { ok: true, status: { strategy, version: r.data.version, healthy: r.data.healthy, url: r.data.url ?? null } };
  }
  const r = blueGreenStatus.safeParse(value);
  if (!r.success) return { ok: false, problem: `not a blue-green status (${zodProblem(r.error)})` };
  const colours = {} as Record<Colour, ColourStatus>;
  for (const c of COLOURS) colours[c] = { ...r.data.colours[c], url: r.data.colours[c].url ?? null };
  return { ok: true, status: { strategy, live: r.data.live, url: r.data.url ?? null, colours } };
}

/** A status in words, for the step's output. */
export function statusWords(env: string, s: DeployStatus): string {
  const health = (h: boolean) => (h ? 'healthy' : 'unhealthy');
  if (s.strategy === 'in-place') return `${env}: ${s.version ?? 'no version'} ${health(s.healthy)}`;
  const colour = (c: Colour) => `${c} ${s.colours[c].version ?? '(none)'} ${health(s.colours[c].healthy)}`;
  return `${env}: ${s.live ? `${s.live} is live` : 'no colour is live'} · ${colour('blue')} · ${colour('green')}`;
}
