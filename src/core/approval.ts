import { canonicalJson } from './canonical.js';
import type { AuditEvent } from './events.js';
import { exhaustive } from './exhaustive.js';

/**
 * Approvals (the `approve` step, `cockpit approve`): who may approve, how an identity is compared, and the exact text
 * an approver signs. Pure: the signing itself is adapters/ssh-sign.ts.
 */

/** The namespace of every approval signature (`ssh-keygen -Y sign -n …`): a signature made for anything else does not verify. */
export const APPROVAL_NAMESPACE = 'cockpit-approval';

/** The config's `approvers:` section as the step and the command use it. */
export interface ApproversSettings {
  /** Role → the e-mail addresses that hold it. */
  roles: Record<string, string[]>;
  /** `ssh`: an approval counts only when signed with a key of `allowedSigners` for the approver's address. */
  signing?: 'ssh';
  /** The allowed-signers file (ssh-keygen's format), absolute. */
  allowedSigners?: string;
  /** How long the step waits, in ms (default 4 h). */
  timeoutMs: number;
}

export const DEFAULT_APPROVAL_TIMEOUT = '4h';

/**
 * An address as compared: letter case folded (`Alice@Example.com` is `alice@example.com`), and a `+tag` in the local
 * part dropped (`alice+deploy@example.com` is `alice@example.com`): mail providers deliver both to one mailbox, so
 * they are one person for self-approval and for the role list alike. Dots in the local part are kept (not every
 * provider ignores them).
 */
export function normalizeEmail(address: string): string {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  const local = a.slice(0, at).replace(/\+.*$/, '');
  return `${local}@${a.slice(at + 1)}`;
}

/** The part before the `@` (normalised), or the whole name when it is not an address. */
function localPart(identity: string): string {
  const n = normalizeEmail(identity);
  const at = n.lastIndexOf('@');
  return at < 0 ? n : n.slice(0, at);
}

/**
 * Whether `approver` is one of the operator's identities (the login name or COCKPIT_OPERATOR the session records, the
 * e-mail git gave the run): the same address after normalising, or an address whose local part is the operator's
 * login name (`alice@example.com` approving a session that `alice` runs). The last rule may refuse a namesake on
 * another domain; refusing one too many is the safe side of a four-eyes rule.
 */
export function isOperator(approver: string, operators: readonly string[]): boolean {
  const a = normalizeEmail(approver);
  const local = localPart(approver);
  return operators.some((o) => {
    const n = normalizeEmail(o);
    return n === a || (!n.includes('@') && n === local);
  });
}

/** The role's members as compared (normalised), and whether `who` is one. */
export function holdsRole(who: string, members: readonly string[]): boolean {
  const a = normalizeEmail(who);
  return members.some((m) => normalizeEmail(m) === a);
}

/** A role in words: `senior` is the policy's "senior developer". */
export function roleWords(role: string): string {
  return role === 'senior' ? 'senior developer' : role;
}

/** "waiting for a senior developer's approval (alice, bob)": what the operator reads while the step waits. */
export function waitingText(role: string, members: readonly string[]): string {
  const words = roleWords(role);
  const article = /^[aeiou]/i.test(words) ? 'an' : 'a';
  return `waiting for ${article} ${words}'s approval (${members.map((m) => m.split('@')[0]).join(', ')})`;
}

/** What an approver decides about: one request of one step of one session, for one version of one checklist. */
export interface ApprovalSubject {
  session: string;
  step: string;
  /** The `approval.requested` event's seq: an approval answers that request and no other. */
  request: number;
  version: string | null;
  checklistSha256: string;
}

/** A decision as recorded and as signed. */
export interface ApprovalDecision extends ApprovalSubject {
  decision: 'approve' | 'reject';
  approver: string;
  role: string;
  /** ISO time the approver decided (their clock: what they signed). */
  at: string;
  note?: string;
}

/**
 * The text an approver signs: the canonical JSON of the whole decision (session, step, request, version, checklist
 * sha256, approver, role, time, note), so a signature for artefact A does not verify for B, nor for another step,
 * session or request, nor with its note or decision changed.
 */
export function approvalPayload(d: ApprovalDecision): string {
  return `${canonicalJson({ v: 1, ...d })}\n`;
}

/** Why a decision does not answer `subject` (null: it does). */
export function subjectMismatch(d: ApprovalSubject, subject: ApprovalSubject): string | null {
  for (const k of ['session', 'step', 'request', 'version', 'checklistSha256'] as const)
    if (d[k] !== subject[k]) return `it names ${k} ${String(d[k])}, this request is for ${String(subject[k])}`;
  return null;
}

/** A request as a decision is judged against: its subject, the role it asks, who holds it, who may not approve. */
export interface ApprovalRequest extends ApprovalSubject {
  role: string;
  approvers: string[];
  operators: string[];
  signing: 'ssh' | null;
}

/** The request an `approval.requested` event (of `session`, at its seq) makes. */
export function requestOf(e: AuditEvent<'approval.requested'>): ApprovalRequest {
  const d = e.data;
  return {
    session: e.sessionId,
    step: e.stepId ?? '',
    request: e.seq,
    version: d.version,
    checklistSha256: d.checklistSha256,
    role: d.role,
    approvers: d.approvers,
    operators: d.operators,
    signing: d.signing,
  };
}

/** The decision as its approver signed it, from its event. */
export function decisionOf(e: AuditEvent<'approval.granted' | 'approval.rejected'>): ApprovalDecision {
  const d = e.data;
  return {
    decision: e.type === 'approval.granted' ? 'approve' : 'reject',
    session: d.session,
    step: d.step,
    request: d.request,
    version: d.version,
    checklistSha256: d.checklistSha256,
    approver: d.approver,
    role: d.role,
    at: d.at,
    ...(d.note !== undefined ? { note: d.note } : {}),
  };
}

/**
 * Why `approver` may not decide on `req` as `role`, or why the decision does not answer it (null: it may). The same
 * rules in `cockpit approve` (before anything is written) and in the step (which acts on it).
 */
export function decisionProblem(d: ApprovalSubject & { approver: string; role: string }, req: ApprovalRequest): string | null {
  const mismatch = subjectMismatch(d, req);
  if (mismatch) return `it does not answer this request: ${mismatch}`;
  if (d.role !== req.role) return `it is given as ${d.role}, the request asks a ${req.role}`;
  if (isOperator(d.approver, req.operators))
    return `self-approval: ${d.approver} is the operator of this session (${req.operators.join(', ')}); approver and operator must be two people`;
  if (!holdsRole(d.approver, req.approvers))
    return `${d.approver} is not a ${roleWords(req.role)} (approvers: ${req.role} lists ${req.approvers.join(', ')})`;
  return null;
}

type ApprovalEvent = AuditEvent<'approval.requested' | 'approval.granted' | 'approval.rejected' | 'approval.resolved' | 'approval.ignored'>;

/** An approval event in words, once, for the live lines, the report's timeline and replay's markers. */
export function approvalWords(e: ApprovalEvent): string {
  switch (e.type) {
    case 'approval.requested': {
      const d = e.data;
      return `${waitingText(d.role, d.approvers)} for ${d.version ?? 'this session'}, until ${new Date(d.deadline).toISOString()}${d.signing ? ' (signed approvals only)' : ''}`;
    }
    case 'approval.granted':
    case 'approval.rejected': {
      const d = e.data;
      const what = e.type === 'approval.granted' ? 'approved' : 'rejected';
      const how = d.identity === 'ssh' ? 'signed' : `claimed by ${d.source}, unsigned`;
      return `${what} by ${d.approver} (${d.role}, ${how})${d.note ? `: ${d.note}` : ''}`;
    }
    case 'approval.resolved': {
      const d = e.data;
      return d.detail;
    }
    case 'approval.ignored': {
      const d = e.data;
      return `decision #${d.decision} by ${d.by} not counted: ${d.reason}`;
    }
    default:
      exhaustive(e);
      return '';
  }
}
