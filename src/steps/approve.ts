import { z } from 'zod';
import { approvalPayload, decisionOf, decisionProblem, requestOf, roleWords, waitingText } from '../core/approval.js';
import { cockpitCommand } from '../core/command-line.js';
import { formatDuration, parseDuration, timerDurationProblem } from '../core/duration.js';
import type { StoredEvent } from '../core/events.js';
import { defineStepKind } from './define.js';

/** How often the waiting step reads the log for a decision (the approver's process appends it). */
const POLL_MS = 1000;

/**
 * An approval from a role (`approvers:` in cockpit.config.yaml). The step records whom it asks (`approval.requested`,
 * with a deadline), then waits for a decision that another process appends to the session (`cockpit approve`, from
 * the approver's own shell): it reads the log, checks each decision again itself (role, not the operator, the
 * subject, the SSH signature when `signing: ssh`), records which one counted (`approval.resolved`) or why one did
 * not (`approval.ignored`). A rejection or the deadline fails the step: the deploy stops.
 *
 * After an interruption it continues where it was (rerunSafe): the open request and its deadline are the log's,
 * and a decision recorded meanwhile counts, once.
 */
export const approveStep = defineStepKind({
  kind: 'approve',
  rerunSafe: true,
  fields: {
    /** The role of `approvers:` whose approval is needed (default `senior`). */
    role: z.string().min(1).optional(),
    /** How long to wait (default `approvers.timeout`, else 4h). */
    timeout: z
      .union([z.string(), z.number()])
      .refine((v) => parseDuration(v) !== null && timerDurationProblem(v) === null, { message: 'expected a duration such as 4h or 30m' })
      .optional(),
  },
  needs: ['approvals', 'history', 'record', 'log', 'clock', 'sleep', 'git'],
  describe({ spec, params, settings }) {
    const version = typeof params.version === 'string' ? ` of ${params.version}` : '';
    const words = roleWords(spec.role ?? 'senior');
    const command = settings?.command ?? cockpitCommand;
    // The session once it runs; a dry run has none yet.
    const approve = settings?.session ? command(['approve', settings.session]) : `${command(['approve'])} <session>`;
    return `wait for ${/^[aeiou]/i.test(words) ? 'an' : 'a'} ${words}'s approval${version} (approvers: ${spec.role ?? 'senior'}; they run ${approve})`;
  },
  async execute(ctx) {
    const fail = (reason: string, timedOut = false) => ({
      status: 'failed' as const,
      exitCode: null,
      reason,
      ...(timedOut ? { timedOut } : {}),
    });
    const settings = ctx.approvals.settings;
    const role = ctx.spec.role ?? 'senior';
    if (!settings) return fail(`no approvers: section in cockpit.config.yaml (it names who holds the role '${role}')`);
    const members = settings.roles[role];
    if (!members?.length) return fail(`approvers: has no role '${role}' (roles: ${Object.keys(settings.roles).join(', ') || 'none'})`);

    // Polled every second for hours: after the first read, only the events appended since are read.
    let events: StoredEvent[] = [];
    const history = async (): Promise<StoredEvent[]> => [...events, ...(await ctx.history((events.at(-1)?.seq ?? 0) + 1))];
    events = await history();
    let request = openRequest(events);
    if (request && 'outcome' in request) return outcomeOf(request.outcome);
    if (!request) {
      const subject = ctx.approvals.subject();
      const who = await ctx.git.identity();
      const email = who.ok ? /<([^>]*)>/.exec(who.ident)?.[1] : undefined;
      const operators = [...new Set([ctx.approvals.operator, subject.operator, ...(email ? [email] : [])])];
      const timeoutMs = ctx.spec.timeout !== undefined ? parseDuration(ctx.spec.timeout)! : settings.timeoutMs;
      const now = ctx.clock.now();
      await ctx.record([
        {
          type: 'approval.requested',
          data: {
            role,
            approvers: members,
            operators,
            version: typeof ctx.params.version === 'string' ? ctx.params.version : null,
            checklistSha256: subject.checklistSha256,
            deadline: now + timeoutMs,
            timeoutMs,
            signing: settings.signing ?? null,
          },
        },
      ]);
      events = await history();
      request = openRequest(events);
      if (!request || 'outcome' in request) return fail('the approval request was not recorded');
    }
    const req = request.event;
    ctx.log(
      `${waitingText(req.data.role, req.data.approvers)}: ask them to run ${ctx.approvals.approveCommand()} (${formatDuration(Math.max(0, req.data.deadline - ctx.clock.now()))} left)`,
    );

    const judged = new Set<number>();
    for (const e of events) if (e.type === 'approval.ignored' && e.data.request === req.seq) judged.add(e.data.decision);
    for (;;) {
      for (const e of events) {
        if ((e.type !== 'approval.granted' && e.type !== 'approval.rejected') || e.seq < req.seq || judged.has(e.seq)) continue;
        judged.add(e.seq);
        const problem = judge(e, req, settings.allowedSigners, ctx.approvals.verify);
        if (problem) {
          await ctx.record([
            { type: 'approval.ignored', data: { request: req.seq, decision: e.seq, by: e.data.approver, reason: problem } },
          ]);
          continue;
        }
        const outcome = e.type === 'approval.granted' ? 'approved' : 'rejected';
        const d = e.data;
        const proof = d.identity === 'ssh' ? 'ssh' : 'claimed';
        const detail = `${outcome} by ${d.approver} (${d.role}${proof === 'ssh' ? ', signature verified' : ', identity claimed, unsigned'})${d.note ? `: ${d.note}` : ''}`;
        await ctx.record([
          { type: 'approval.resolved', data: { request: req.seq, outcome, decision: e.seq, by: d.approver, proof, detail } },
        ]);
        return outcomeOf({ outcome, detail });
      }
      const left = req.data.deadline - ctx.clock.now();
      if (left <= 0) {
        const detail = `no approval within ${formatDuration(req.data.timeoutMs)}: ${waitingText(req.data.role, req.data.approvers).replace(/^waiting for/, 'nobody gave')}`;
        await ctx.record([{ type: 'approval.resolved', data: { request: req.seq, outcome: 'expired', detail } }]);
        return fail(detail, true);
      }
      await ctx.sleep(Math.min(POLL_MS, left), ctx.signal);
      if (ctx.signal.aborted)
        return { status: 'aborted', reason: 'stopped by the operator while waiting for approval (the request stays open)' };
      events = await history();
    }
  },
});

type Request = StoredEvent<'approval.requested'>;
type Decision = StoredEvent<'approval.granted' | 'approval.rejected'>;

/**
 * The step's request as the log has it: the newest `approval.requested`, with its outcome when it was resolved and
 * the attempt did not fail since (a crash after the resolution: the decision stands, once). A request resolved and
 * then failed (rejected, expired) is closed: a retry asks again. Null: nothing to continue.
 */
function openRequest(events: StoredEvent[]): { event: Request } | { outcome: { outcome: string; detail: string } } | null {
  let req: Request | undefined;
  for (const e of events) if (e.type === 'approval.requested') req = e;
  if (!req) return null;
  const after = events.filter((e) => e.seq > req.seq);
  const resolved = after.find((e): e is StoredEvent<'approval.resolved'> => e.type === 'approval.resolved' && e.data.request === req.seq);
  if (!resolved) return { event: req };
  if (resolved.data.outcome !== 'approved' && after.some((e) => e.type === 'step.failed' && e.seq > resolved.seq)) return null;
  return { outcome: { outcome: resolved.data.outcome, detail: resolved.data.detail } };
}

function outcomeOf(r: { outcome: string; detail: string }) {
  return r.outcome === 'approved'
    ? ({ status: 'passed' } as const)
    : ({ status: 'failed', exitCode: null, reason: r.detail, ...(r.outcome === 'expired' ? { timedOut: true } : {}) } as const);
}

/** Why a decision does not count (null: it does): the rules `cockpit approve` applied, checked again where it acts. */
function judge(
  e: Decision,
  req: Request,
  allowedSigners: string | undefined,
  verify: (allowedSigners: string, principal: string, text: string, signature: string) => { ok: boolean; detail: string },
): string | null {
  const d = e.data;
  const problem = decisionProblem(d, requestOf(req));
  if (problem) return problem;
  if (!req.data.signing) return null;
  if (!d.signature) return 'unsigned: with approvers.signing set, only a signed approval counts';
  if (!allowedSigners) return 'approvers.allowedSigners is not set: the signature cannot be checked';
  const v = verify(allowedSigners, d.approver, approvalPayload(decisionOf(e)), d.signature);
  return v.ok ? null : `the signature does not verify for ${d.approver}: ${v.detail}`;
}
