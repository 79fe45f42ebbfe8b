/**
 * `cockpit approve`: an approver's decision on a session that waits in an `approve` step (src/steps/approve.ts),
 * from the approver's own shell and process.
 *
 * Why an append and not the session lock: the run holds the lock while it waits, and it must go on holding it (a
 * second operator must not resume the session meanwhile). The decision is one event appended to the store in its own
 * write transaction, which reads the chain's head inside it (SQLite BEGIN IMMEDIATE, PostgreSQL SELECT … FOR UPDATE):
 * a compare-and-append, so it and the run's own appends serialise and the chain stays whole (the run's SQLite store,
 * whose cached head is then stale, collides on the key and appends again from the row's head). The waiting step reads
 * the log every second, checks the decision again itself and records which one counted. A finished session refuses
 * it inside the same transaction (`refuseAfterFinish`): an approval that arrives after an abort is refused.
 */
import os from 'node:os';
import path from 'node:path';
import { gitTry } from '../adapters/git.js';
import { sshSign, sshVerify } from '../adapters/ssh-sign.js';
import {
  APPROVAL_NAMESPACE,
  approvalPayload,
  decisionOf,
  decisionProblem,
  requestOf,
  roleWords,
  type ApprovalDecision,
  type ApproversSettings,
} from '../core/approval.js';
import { FailedError } from '../core/errors.js';
import type { ApprovalDecisionData, StoredEvent } from '../core/events.js';
import { reduceAll } from '../core/reducer.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { resolveId } from './stopped.js';

/** An approval the rules refuse (self-approval, not in the role, unsigned where signing is required, a closed session): exit 1. */
export class ApprovalRefused extends FailedError {}

export interface ApproveOptions {
  /** A session id or a unique prefix. */
  session: string;
  /** The approve step (id or path), when more than one waits. */
  step?: string;
  note?: string;
  /** Reject, with this reason, instead of approving. */
  reject?: string;
  /** The SSH key to sign with (else git's user.signingkey). */
  key?: string;
}

export interface ApproveResult {
  sessionId: string;
  step: string;
  decision: 'approve' | 'reject';
  approver: string;
  role: string;
  identity: 'claimed' | 'ssh';
}

async function gitConfig(cwd: string, key: string): Promise<string | undefined> {
  const r = await gitTry({ cwd }, ['config', '--get', key]);
  return r.code === 0 ? r.stdout.trim() || undefined : undefined;
}

const expandHome = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

export async function approve(ctx: AppContext, opts: ApproveOptions): Promise<ApproveResult> {
  if (opts.reject !== undefined && !opts.reject.trim()) throw new UsageError('a rejection needs a reason (--reject "…")');
  const ws = ctx.workspace();
  const settings: ApproversSettings | undefined = ws.approvers?.();
  if (!settings) throw new UsageError('no approvers: section in cockpit.config.yaml: nobody can approve here');
  const store = await ws.openStore();
  const sessionId = await resolveId(ctx, store, opts.session);
  const events = await store.readEvents(sessionId);
  const state = reduceAll(events);
  if (!state) throw new UsageError(`session ${sessionId} has no events`);
  if (state.outcome) throw new ApprovalRefused(`session ${sessionId} has finished (${state.outcome}): a decision now is refused`);

  // The requests still open: not resolved, the step not failed since.
  const open = events.filter((e): e is StoredEvent<'approval.requested'> => {
    if (e.type !== 'approval.requested') return false;
    return !events.some(
      (x) =>
        x.seq > e.seq &&
        x.stepId === e.stepId &&
        (x.type === 'approval.requested' || (x.type === 'approval.resolved' && x.data.request === e.seq)),
    );
  });
  const wanted = opts.step ? open.filter((e) => e.stepId === opts.step || state.plan[state.index[e.stepId ?? '']]?.id === opts.step) : open;
  if (!wanted.length)
    throw new UsageError(
      `no approval is waiting in session ${sessionId}${opts.step ? ` at step '${opts.step}'` : ''}${open.length ? ` (waiting: ${open.map((e) => e.stepId).join(', ')})` : ''}`,
    );
  if (wanted.length > 1)
    throw new UsageError(
      `more than one approval waits in session ${sessionId}: name one with --step (${wanted.map((e) => e.stepId).join(', ')})`,
    );
  const reqEvent = wanted[0];
  const req = requestOf(reqEvent);
  if (ctx.clock.now() >= reqEvent.data.deadline)
    throw new ApprovalRefused(`the request expired at ${new Date(reqEvent.data.deadline).toISOString()}: a decision now is refused`);
  const earlier = events.find(
    (e) =>
      (e.type === 'approval.granted' || e.type === 'approval.rejected') &&
      e.data.request === req.request &&
      !events.some((x) => x.type === 'approval.ignored' && x.data.decision === e.seq),
  );
  if (earlier)
    throw new ApprovalRefused(
      `${earlier.type === 'approval.granted' ? 'approved' : 'rejected'} already by ${earlier.actor}: the run counts that decision`,
    );

  const email = (await gitConfig(ws.repoDir, 'user.email')) ?? '';
  if (!email) throw new UsageError('no git user.email here: the approver is known by it (git config --global user.email you@example.com)');
  const decision: ApprovalDecision = store.clean({
    decision: opts.reject !== undefined ? 'reject' : 'approve',
    session: req.session,
    step: req.step,
    request: req.request,
    version: req.version,
    checklistSha256: req.checklistSha256,
    approver: email,
    role: req.role,
    at: new Date(ctx.clock.now()).toISOString(),
    ...((opts.reject ?? opts.note) ? { note: (opts.reject ?? opts.note)! } : {}),
  });
  const problem = decisionProblem(decision, req);
  if (problem) throw new ApprovalRefused(`refused: ${problem}`);

  let signature: string | undefined;
  const signing = req.signing ?? settings.signing;
  const key = opts.key ?? (await gitConfig(ws.repoDir, 'user.signingkey'));
  if (signing || opts.key) {
    if (!key)
      throw new ApprovalRefused(
        `approvers.signing is ${signing}: an unsigned approval does not count; sign with --key <ssh key> or git config user.signingkey`,
      );
    const signed = sshSign(expandHome(key), APPROVAL_NAMESPACE, approvalPayload(decision));
    if ('error' in signed) throw new ApprovalRefused(`could not sign the approval: ${signed.error}`);
    signature = signed.signature;
    if (signing) {
      if (!settings.allowedSigners) throw new UsageError('approvers.signing is set without approvers.allowedSigners');
      const v = sshVerify(settings.allowedSigners, email, APPROVAL_NAMESPACE, approvalPayload(decision), signature);
      if (!v.ok)
        throw new ApprovalRefused(`refused: the signature does not verify for ${email} against ${settings.allowedSigners}: ${v.detail}`);
    }
  }
  const { decision: kind, ...rest } = decision;
  const data: ApprovalDecisionData = {
    ...rest,
    identity: signature && signing ? 'ssh' : 'claimed',
    source: 'git config user.email',
    ...(signature ? { signature } : {}),
  };
  await store.append(sessionId, [
    { type: kind === 'approve' ? 'approval.granted' : 'approval.rejected', stepId: req.step, actor: email, time: ctx.clock.now(), data },
  ]);
  return { sessionId, step: req.step, decision: kind, approver: email, role: roleWords(req.role), identity: data.identity };
}

/**
 * `audit verify`'s check of the approvals: every decision recorded as signed (`identity: ssh`) must carry a signature
 * that verifies, for its approver, over the decision as recorded (a changed version, step, note or signature fails).
 * Without an allowed-signers file nothing can be checked, and the count says so.
 */
export function verifyApprovalSignatures(
  decisions: Array<{ sessionId: string; event: StoredEvent }>,
  allowedSigners: string | undefined,
): { checked: number; signed: number; problems: Array<{ sessionId: string; seq: number; message: string }> } {
  const problems: Array<{ sessionId: string; seq: number; message: string }> = [];
  let signed = 0;
  let checked = 0;
  for (const { sessionId: id, event: e } of decisions) {
    if (e.type !== 'approval.granted' && e.type !== 'approval.rejected') continue;
    if (e.data.identity !== 'ssh') continue;
    signed++;
    if (!e.data.signature) {
      problems.push({
        sessionId: id,
        seq: e.seq,
        message: `the approval by ${e.data.approver} is recorded as signed but has no signature`,
      });
      continue;
    }
    if (!allowedSigners) continue;
    checked++;
    const v = sshVerify(allowedSigners, e.data.approver, APPROVAL_NAMESPACE, approvalPayload(decisionOf(e)), e.data.signature);
    if (!v.ok)
      problems.push({ sessionId: id, seq: e.seq, message: `the approval signature of ${e.data.approver} does not verify: ${v.detail}` });
  }
  return { checked, signed, problems };
}
