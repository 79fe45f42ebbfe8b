import { z } from 'zod';
import type { HttpCheckAnswer } from '../adapters/http-check.js';
import type { ParamValue } from '../core/checklist/types.js';
import { durationSchema } from '../core/checklist/schema.js';
import { smokeCheckSchema, type SmokeCheck } from '../core/deploy/smoke-check.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import type { EventDataMap } from '../core/events.js';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail } from './git-common.js';
import { environment, scriptFailed } from './deploy-common.js';
import { environmentOf } from '../core/deploy/command.js';
import { strategyOf } from '../core/deploy/config.js';
import type { DeployStatus } from '../core/deploy/status.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext, StepOutcome } from './types.js';

const fields = {
  /** The base URL the checks' paths are appended to: a colour's URL or the live one (a template: `${url}`). */
  url: z.string().min(1).optional(),
  /** An environment of `deploy:` (a template): the URL is its live one or the colour's (`target`), the checks its `smoke:` when none are given. */
  env: z.string().min(1).optional(),
  /** With `env`: `colour`, the colour this session deployed to (before the switch), or `live`, the environment's URL (default). */
  target: z.enum(['colour', 'live']).optional(),
  checks: z.array(smokeCheckSchema).min(1, 'expected at least one check').optional(),
  /** How many times a check is tried again after a transient failure (no answer, a 5xx, too slow). */
  retries: z.number().int().min(0).max(20).optional(),
  /** The wait before the first retry, doubled for each one after it. */
  backoff: durationSchema.optional(),
  /** All the checks, retries and waits included, within this; a check not judged by then is inconclusive. */
  timeout: durationSchema.optional(),
  /** One request's longest wait (default 10s, never past the overall timeout). */
  requestTimeout: durationSchema.optional(),
};

type SmokeSpec = SpecOf<typeof fields>;
type Check = SmokeCheck;
type Verdict = EventDataMap['smoke.check']['verdict'];

const DEFAULTS = { retries: 2, backoffMs: 500, timeoutMs: 60_000, requestTimeoutMs: 10_000 };
/** How much of a failing body the event and the output keep (redacted before it is cut). */
const EXCERPT_CHARS = 300;

const ms = (v: string | number | undefined, fallback: number) => (v === undefined ? fallback : (parseDuration(v) ?? fallback));

function limitsOf(spec: SmokeSpec) {
  return {
    retries: spec.retries ?? DEFAULTS.retries,
    backoffMs: ms(spec.backoff, DEFAULTS.backoffMs),
    timeoutMs: ms(spec.timeout, DEFAULTS.timeoutMs),
    requestTimeoutMs: ms(spec.requestTimeout, DEFAULTS.requestTimeoutMs),
  };
}

/** The URL as recorded and shown: a `user:password@` in it is replaced (the store's redaction then covers the query). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    const text = u.toString();
    // `new URL` adds a '/' to a bare origin: shown as written.
    return u.pathname === '/' && !u.search && !u.hash && !url.endsWith('/') ? text.replace(/\/$/, '') : text;
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}

/** A field of a JSON value by a dotted path (`data.version`, `items.0.id`, `items[0].id`); `found: false` when absent. */
export function jsonField(value: unknown, path: string): { found: true; value: unknown } | { found: false } {
  let v = value;
  for (const key of path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key) || (Array.isArray(v) && !/^\d+$/.test(key))) return { found: false };
    v = (v as Record<string, unknown>)[key];
  }
  return { found: true, value: v };
}

interface Judged {
  verdict: Verdict;
  reason: string;
  /** Worth another try: no answer, a 5xx, too slow (a colour still warming up); a wrong answer is not. */
  retry: boolean;
}

/**
 * How an answer is judged. Pass: every condition holds. Fail: the service answered, and wrongly (another status, a
 * 500, a body without the text, a field with another value, too slow), or nothing listens (connection refused: the
 * colour is down). Inconclusive: nothing could be judged: no answer in time, a reset connection, a host not found,
 * or 502/503/504 (a proxy or a dependency of the service could not answer: the service itself was not seen).
 */
export function judge(check: Check, answer: HttpCheckAnswer, params: Record<string, ParamValue>): Judged {
  if (!answer.ok) {
    if (answer.kind === 'refused') return { verdict: 'fail', reason: answer.error, retry: true };
    return { verdict: 'inconclusive', reason: answer.error, retry: answer.kind !== 'aborted' };
  }
  const { status } = answer;
  if (status !== check.status) {
    if (status === 502 || status === 503 || status === 504)
      return {
        verdict: 'inconclusive',
        reason: `HTTP ${status}, expected ${check.status}: a proxy or a dependency could not answer, so the service itself was not judged`,
        retry: true,
      };
    return { verdict: 'fail', reason: `HTTP ${status}, expected ${check.status}`, retry: status >= 500 };
  }
  if (check.contains !== undefined) {
    const text = interpolate(check.contains, params);
    if (!answer.body.includes(text)) return { verdict: 'fail', reason: `the body does not contain ${JSON.stringify(text)}`, retry: false };
  }
  if (check.json) {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return { verdict: 'fail', reason: `the body is not JSON (${check.json.path} cannot be read)`, retry: false };
    }
    const field = jsonField(body, check.json.path);
    const want = typeof check.json.equals === 'string' ? interpolate(check.json.equals, params) : check.json.equals;
    if (!field.found) return { verdict: 'fail', reason: `the JSON has no ${check.json.path}`, retry: false };
    const same =
      typeof want === 'string' && (typeof field.value === 'number' || typeof field.value === 'boolean')
        ? String(field.value) === want
        : field.value === want;
    if (!same)
      return {
        verdict: 'fail',
        reason: `${check.json.path} is ${JSON.stringify(field.value)}, expected ${JSON.stringify(want)}`,
        retry: false,
      };
  }
  const limit = check.maxLatency === undefined ? null : parseDuration(check.maxLatency);
  if (limit !== null && answer.latencyMs > limit)
    return {
      verdict: 'fail',
      reason: `answered in ${formatDuration(answer.latencyMs)}, over the limit of ${formatDuration(limit)}`,
      retry: true,
    };
  return { verdict: 'pass', reason: `HTTP ${status} in ${formatDuration(answer.latencyMs)}`, retry: false };
}

function expectation(check: Check, params: Record<string, ParamValue>): string {
  const parts = [`${check.status}`];
  if (check.contains !== undefined) parts.push(`contains ${JSON.stringify(interpolate(check.contains, params))}`);
  if (check.json)
    parts.push(
      `${check.json.path} = ${JSON.stringify(typeof check.json.equals === 'string' ? interpolate(check.json.equals, params) : check.json.equals)}`,
    );
  if (check.maxLatency !== undefined) parts.push(`within ${check.maxLatency}`);
  return parts.join(', ');
}

/** The checks a smoke step of a deploy runs: a check marked for the other target is left out. */
function forTarget(checks: readonly Check[], target: 'colour' | 'live'): Check[] {
  return checks.filter((c) => c.target === undefined || c.target === 'both' || c.target === target);
}

/**
 * A smoke step of a deploy (`env`, `target`): the URL and the checks. `live`: the environment's URL (the config's,
 * else the one status reports). `colour`: the colour this session's deploy step deployed to (the config's URL for
 * it, else status's); an in-place environment has no colour, its live URL is checked. The checks are the step's,
 * else deploy.<env>.smoke.
 */
async function deployTarget(
  ctx: Ctx,
  template: string,
  target: 'colour' | 'live',
  own: Check[] | undefined,
): Promise<{ base: string; checks: Check[]; version?: string } | { outcome: StepOutcome }> {
  const e = environment(ctx, template);
  if (!e.ok) return { outcome: e.outcome };
  const checks = forTarget(own ?? e.config.smoke, target);
  if (!checks.length)
    return {
      outcome: fail(
        `no smoke checks for ${e.name}${own ? '' : ` (deploy.${e.name}.smoke in cockpit.config.yaml has none${e.config.smoke.length ? ` for target ${target}` : ''})`}: a deploy is not checked by nothing`,
      ),
    };
  let url: string | null | undefined;
  let what: string;
  const status = async (): Promise<{ status: DeployStatus } | { outcome: StepOutcome }> => {
    const r = await e.script.status();
    return r.ok ? { status: r.status } : { outcome: scriptFailed(r) };
  };
  if (target === 'live' || e.script.strategy === 'in-place') {
    what = `${e.name}'s live URL${target === 'colour' ? ` (${e.name} is in-place: no colour, the version is live)` : ''}`;
    url = e.config.url;
    if (!url) {
      const r = await status();
      if ('outcome' in r) return { outcome: r.outcome };
      url = r.status.url;
    }
  } else {
    const colour = ctx.deploy.facts(e.name).deployed?.colour;
    if (!colour)
      return {
        outcome: fail(`no deploy step of this session deployed to ${e.name}: no colour to check before the switch (target: colour)`),
      };
    what = `${colour} of ${e.name} (deployed by this session)`;
    url = e.config.colours?.[colour];
    if (!url) {
      const r = await status();
      if ('outcome' in r) return { outcome: r.outcome };
      url = r.status.strategy === 'blue-green' ? r.status.colours[colour].url : null;
    }
  }
  if (!url)
    return {
      outcome: fail(
        `no URL for ${what}: neither cockpit.config.yaml (deploy.${e.name}.${target === 'live' ? 'url' : 'colours'}) nor ${e.script.label} status --json gives one`,
      ),
    };
  ctx.log(`checking ${what} at ${shownUrl(url)}`);
  const facts = ctx.deploy.facts(e.name);
  const version = target === 'colour' && e.script.strategy === 'blue-green' ? facts.deployed?.version : facts.live?.version;
  return { base: url.trim().replace(/\/+$/, ''), checks, ...(version !== undefined ? { version } : {}) };
}

const GLYPH: Record<Verdict, string> = { pass: '✔', fail: '✖', inconclusive: '?' };

type Ctx = StepContext<SmokeSpec, 'http' | 'record' | 'log' | 'sleep' | 'clean' | 'deploy'>;

/** One check, tried again with a doubling wait while its failure is transient and time is left. */
async function runCheck(ctx: Ctx, check: Check, base: string, s: ReturnType<typeof limitsOf>, deadline: number) {
  const url = `${base}${interpolate(check.path, ctx.params)}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(check.headers ?? {})) headers[k] = interpolate(v, ctx.params);
  let attempts = 0;
  let wait = s.backoffMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) {
      const reason = `not judged: the overall timeout (${formatDuration(s.timeoutMs)}) ran out`;
      return { attempts, judged: { verdict: 'inconclusive' as Verdict, reason, retry: false }, answer: null };
    }
    attempts++;
    const answer = await ctx.http({
      method: check.method,
      url,
      headers,
      ...(check.body !== undefined ? { body: interpolate(check.body, ctx.params) } : {}),
      timeoutMs: Math.max(1, Math.min(s.requestTimeoutMs, Math.floor(left))),
      signal: ctx.signal,
    });
    let judged = judge(check, answer, ctx.params);
    if (!answer.ok && answer.kind === 'timeout' && deadline - performance.now() <= 0)
      judged = { ...judged, reason: `${judged.reason}: the overall timeout (${formatDuration(s.timeoutMs)}) ran out` };
    const waitLeft = deadline - performance.now();
    if (judged.verdict === 'pass' || !judged.retry || attempts > s.retries || ctx.signal.aborted || waitLeft <= wait)
      return { attempts, judged, answer };
    await ctx.sleep(wait, ctx.signal);
    if (ctx.signal.aborted) return { attempts, judged, answer };
    wait *= 2;
  }
}

/**
 * HTTP smoke checks against a colour's URL or the live one: each check's status, body text, JSON field and latency,
 * with retries and backoff for transient failures, all within an overall timeout. Three outcomes per check (see
 * `judge`); the step passes only when every check passed, and an inconclusive one fails it too, saying so: a check
 * that could not be judged never lets a deploy go on to the switch. Every check's result is a `smoke.check` event.
 */
export const smokeStep = defineStepKind({
  kind: 'smoke',
  // It only reads: a resume runs the checks again.
  rerunSafe: true,
  fields,
  needs: ['http', 'record', 'log', 'sleep', 'clean', 'deploy'],
  validate(step, params) {
    const problems = checkTemplates(step, params, ['url', 'env']);
    if (step.url === undefined && step.env === undefined)
      problems.push({ path: ['url'], message: 'expected a url, or an env of deploy: whose URL the checks use' });
    if (step.url !== undefined && step.env !== undefined) problems.push({ path: ['env'], message: 'expected a url or an env, not both' });
    if (step.target !== undefined && step.env === undefined)
      problems.push({ path: ['target'], message: 'target applies to a smoke step with an env' });
    if (step.checks === undefined && step.env === undefined)
      problems.push({ path: ['checks'], message: 'expected checks (or an env, whose deploy.<env>.smoke are used)' });
    const checks = step.checks ?? [];
    checks.forEach((c, i) => {
      for (const p of checkTemplates(c, params, ['name', 'path', 'contains', 'body']))
        problems.push({ path: ['checks', i, ...p.path], message: p.message });
      if (c.json)
        for (const p of checkTemplates(c.json, params, ['equals']))
          problems.push({ path: ['checks', i, 'json', ...p.path], message: p.message });
      for (const p of checkTemplates(c.headers ?? {}, params, Object.keys(c.headers ?? {})))
        problems.push({ path: ['checks', i, 'headers', ...p.path], message: p.message });
      if (checks.findIndex((o) => o.name === c.name) !== i)
        problems.push({ path: ['checks', i, 'name'], message: `another check is already named '${c.name}'` });
    });
    if (step.url !== undefined && !step.url.includes('${') && !/^https?:\/\/[^/]/.test(step.url))
      problems.push({ path: ['url'], message: `'${step.url}' is not an http:// or https:// URL` });
    return problems;
  },
  describe({ spec, params, settings }) {
    const s = limitsOf(spec);
    let where: string;
    let list: Check[];
    if (spec.env !== undefined) {
      const name = interpolate(spec.env, params);
      const env = environmentOf(settings?.deploy, name);
      const target = spec.target ?? 'live';
      list = forTarget(spec.checks ?? env.smoke, target);
      where =
        target === 'colour' && strategyOf(name, env) === 'blue-green'
          ? `the colour this session deployed to on ${name} (${env.colours ? `${shownUrl(env.colours.blue)} or ${shownUrl(env.colours.green)}` : 'its URL as status --json reports it'})`
          : `${name}'s live URL (${env.url ? shownUrl(env.url) : 'as status --json reports it'})`;
      if (!list.length) return `smoke checks against ${where}: none configured (deploy.${name}.smoke), so the step fails`;
    } else {
      where = shownUrl(interpolate(spec.url ?? '', params).replace(/\/+$/, '')) || (spec.url ?? '');
      list = spec.checks ?? [];
    }
    const checks = list.map((c) => `${c.name}: ${c.method} ${interpolate(c.path, params)} → ${expectation(c, params)}`);
    return (
      `smoke checks against ${where}: ${checks.join('; ')} ` +
      `(retries ${s.retries}, backoff ${formatDuration(s.backoffMs)}, overall timeout ${formatDuration(s.timeoutMs)})`
    );
  },
  async execute(outer) {
    let ctx = outer;
    const spec = ctx.spec;
    const s = limitsOf(spec);
    let base: string;
    let checks: Check[];
    if (spec.env !== undefined) {
      const t = await deployTarget(ctx, spec.env, spec.target ?? 'live', spec.checks);
      if ('outcome' in t) return t.outcome;
      ({ base, checks } = t);
      // deploy.<env>.smoke is written once for every checklist: its `${version}` is what this session put there.
      if (t.version !== undefined && spec.checks === undefined) ctx = { ...ctx, params: { ...ctx.params, version: t.version } };
    } else {
      base = interpolate(spec.url ?? '', ctx.params)
        .trim()
        .replace(/\/+$/, '');
      checks = spec.checks ?? [];
    }
    if (!/^https?:\/\/[^/]/.test(base)) return fail(`url '${ctx.clean(base || (spec.url ?? ''))}' is not an http:// or https:// URL`);
    const deadline = performance.now() + s.timeoutMs;
    const results: Array<{ name: string; verdict: Verdict; reason: string }> = [];
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const check of checks) {
      const { attempts, judged, answer } = await runCheck(ctx, check, base, s, deadline);
      if (ctx.signal.aborted) return { status: 'aborted', reason: 'stopped by the operator (the checks run again on a resume)' };
      const url = shownUrl(`${base}${interpolate(check.path, ctx.params)}`);
      // Redacted whole, then cut: a secret is never kept in part.
      const excerpt =
        judged.verdict !== 'pass' && answer?.ok && answer.body
          ? ctx
              .clean(answer.body.slice(0, 8 * EXCERPT_CHARS))
              .replace(/\s+/g, ' ')
              .trim()
              .slice(0, EXCERPT_CHARS)
          : undefined;
      await ctx.record([
        {
          type: 'smoke.check',
          data: {
            name: check.name,
            method: check.method,
            url,
            verdict: judged.verdict,
            status: answer?.ok ? answer.status : null,
            latencyMs: answer ? answer.latencyMs : null,
            attempts,
            reason: judged.reason,
            ...(excerpt ? { excerpt } : {}),
          },
        },
      ]);
      const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
      const word = judged.verdict === 'inconclusive' ? 'inconclusive: ' : '';
      // What was found first: a narrow pane cuts the end of the line, the URL.
      ctx.log(`${GLYPH[judged.verdict]} ${check.name.padEnd(width)}  ${word}${judged.reason}${tries} · ${check.method} ${url}`);
      if (excerpt) ctx.log(`    body: ${excerpt}`);
      results.push({ name: check.name, verdict: judged.verdict, reason: judged.reason });
    }
    const failed = results.filter((r) => r.verdict === 'fail');
    const unknown = results.filter((r) => r.verdict === 'inconclusive');
    const list = (rs: typeof results) => rs.map((r) => `${r.name}: ${r.reason}`).join('; ');
    if (failed.length)
      return fail(
        `smoke failed: ${failed.length} of ${results.length} check(s) failed (${list(failed)})` +
          `${unknown.length ? `, ${unknown.length} inconclusive (${list(unknown)})` : ''}. ` +
          'Nothing after this step ran (no switch): fix the service and retry the step, or skip it with a reason',
      );
    if (unknown.length)
      return fail(
        `smoke inconclusive: ${unknown.length} of ${results.length} check(s) could not be judged (${list(unknown)}). ` +
          'Inconclusive is not a pass: no promotion. Check the service and retry the step, or skip it with a reason',
      );
    return { status: 'passed' };
  },
});
