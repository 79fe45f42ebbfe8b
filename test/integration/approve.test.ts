import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/audit/hash.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { BIN, cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { Tmux } from '../helpers/tmux.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import type { EventRow } from '../helpers/audit-rows.js';

/**
 * The `approve` step with real processes: the run (`cockpit run … --json`) waits in its own process; approvers run
 * `cockpit approve` from theirs, each with its own git identity (its own global git config), against the same
 * audit store. With `approvers.signing: ssh`, real ssh-keygen keys and an allowed-signers file.
 */
const CHECKLIST = (timeout = '1h') => `id: ship
title: Ship
params:
  version: {type: semver, required: true}
steps:
  - id: approval
    title: Senior approval
    kind: approve
    timeout: ${timeout}
  - id: deploy
    title: Deploy
    kind: run
    run: echo deployed >> deployed.log
`;

type Ev = Record<string, any>;

let repo: ReturnType<typeof tempRepo>;
/** A global git config per person: who `cockpit approve` (and the run) says they are. */
const person = (email: string): Record<string, string> => {
  const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}-${email.replace(/[^a-z0-9]/gi, '_')}.gitconfig`);
  writeFileSync(file, `[user]\n\temail = ${email}\n\tname = ${email.split('@')[0]}\n`);
  return { GIT_CONFIG_GLOBAL: file, GIT_CONFIG_NOSYSTEM: '1' };
};
const OPERATOR = () => ({ ...person('carol@example.com'), COCKPIT_OPERATOR: 'carol' });

function config(extra = '') {
  repo.write('cockpit.config.yaml', `approvers:\n  senior: [alice@example.com, bob@example.com, Carol+ops@Example.com]\n${extra}`);
}

beforeEach(() => {
  repo = tempRepo({ ship: CHECKLIST() });
  config();
});
afterEach(() => repo.cleanup());

/** Starts the run; resolves `waiting` once the request is recorded, `done` with its exit code and events. */
function startRun(env: Record<string, string> = OPERATOR(), global: string[] = []) {
  const child = cockpitAsync(['--repo', repo.dir, ...global, 'run', 'ship', '-p', 'version=1.4.0', '--non-interactive', '--json'], {
    cwd: repo.dir,
    env,
  });
  const printed: Ev[] = [];
  let buf = '';
  let stderr = '';
  let onRequest: (e: Ev) => void = () => {};
  const waiting = new Promise<Ev>((resolve) => (onRequest = resolve));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line);
      printed.push(e);
      if (e.type === 'approval.requested') onRequest(e);
    }
  });
  const done = new Promise<{ code: number | null; printed: Ev[]; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, printed, stderr })),
  );
  return { child, waiting, done };
}

const approveAs = (env: Record<string, string>, ...args: string[]) =>
  cockpit(['--repo', repo.dir, 'approve', ...args], { cwd: repo.dir, env });

const storedEvents = (id: string): Ev[] => JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json']).stdout).events;

const deployed = () => (existsSync(path.join(repo.dir, 'deployed.log')) ? readFileSync(path.join(repo.dir, 'deployed.log'), 'utf8') : '');

describe('approve: a role approves from another process', () => {
  it('refuses a bad approvers: section at its line and column', () => {
    repo.write('cockpit.config.yaml', 'approvers:\n  senior: [alice@example.com, bob]\n  timeout: forever\n');
    const r = approveAs(person('alice@example.com'), '2026');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cockpit.config.yaml:2:31: approvers.senior.1: expected an e-mail address');
    expect(r.stderr).toContain('cockpit.config.yaml:3:12: approvers.timeout: expected a duration');
    repo.write('cockpit.config.yaml', 'approvers:\n  senior: [alice@example.com]\n  signing: ssh\n');
    expect(approveAs(person('alice@example.com'), '2026').stderr).toContain('signing: ssh needs allowedSigners');
  });

  it('refuses self-approval (another letter case and a +alias) and a non-senior; a second identity approves, and the deploy runs', async () => {
    const run = startRun();
    const req = await run.waiting;
    const id = req.sessionId;
    expect(req.data).toMatchObject({ role: 'senior', version: '1.4.0' });
    expect(req.data.operators).toEqual(expect.arrayContaining(['carol', 'carol@example.com']));

    // What the operator reads while it waits (the step's reason, as the screen's detail pane shows it).
    const show = cockpit(['--repo', repo.dir, 'audit', 'show', id]).stdout;
    expect(show).toContain("waiting for a senior developer's approval (alice, bob, Carol+ops)");

    // The operator under another letter case and a +alias: the same person, refused. The role lists Carol+ops, so
    // only the four-eyes rule stands in the way.
    const self = approveAs(person('CAROL+deploy@Example.COM'), id);
    expect(self.code, self.stdout).toBe(1);
    expect(self.stderr).toMatch(/self-approval: carol\+deploy@example\.com is the operator/i);

    const dave = approveAs(person('dave@example.com'), id, '--note', 'lgtm');
    expect(dave.code).toBe(1);
    expect(dave.stderr).toContain('dave@example.com is not a senior developer');
    expect(deployed()).toBe('');

    const alice = approveAs(person('alice@example.com'), id, '--note', 'checked the migration plan');
    expect(alice.code, alice.stderr).toBe(0);
    expect(alice.stdout).toContain('approved: session');
    expect(alice.stdout).toContain('identity claimed, unsigned');

    const end = await run.done;
    expect(end.code, end.stderr).toBe(0);
    expect(deployed()).toBe('deployed\n');
    const resolved = end.printed.filter((e) => e.type === 'approval.resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0].data).toMatchObject({ outcome: 'approved', by: 'alice@example.com', proof: 'claimed' });

    // The decision as recorded: who, role, when, what (version, session, step, checklist hash).
    const granted = storedEvents(id).filter((e) => e.type === 'approval.granted');
    expect(granted).toHaveLength(1);
    expect(granted[0]).toMatchObject({ actor: 'alice@example.com', stepId: 'approval' });
    expect(granted[0].data).toMatchObject({
      session: id,
      step: 'approval',
      request: req.seq,
      version: '1.4.0',
      checklistSha256: req.data.checklistSha256,
      role: 'senior',
      identity: 'claimed',
      note: 'checked the migration plan',
    });
    expect(Date.parse(granted[0].data.at)).toBeGreaterThan(0);
    expect(cockpit(['--repo', repo.dir, 'audit', 'verify', id]).code).toBe(0);

    // Late: the session is finished, nothing is waiting any more.
    const late = approveAs(person('bob@example.com'), id);
    expect(late.code).not.toBe(0);
    expect(late.stderr).toMatch(/finished|no approval is waiting/);
  }, 60_000);

  it('the step checks again where it acts: a self-approval written straight into the store is not counted', async () => {
    const run = startRun();
    const req = await run.waiting;
    const id = req.sessionId;
    // Past the command's checks (someone with the code and the store): the waiting step judges it itself.
    const store = new SqliteAuditStore(path.join(repo.dir, '.cockpit', 'audit.db'));
    await store.append(id, [
      {
        type: 'approval.granted',
        stepId: 'approval',
        actor: 'carol@example.com',
        data: {
          session: id,
          step: 'approval',
          request: req.seq,
          version: '1.4.0',
          checklistSha256: req.data.checklistSha256,
          approver: 'Carol@Example.com',
          role: 'senior',
          at: new Date().toISOString(),
          identity: 'claimed',
          source: 'git config user.email',
        },
      },
    ]);
    await store.close();
    const deadline = Date.now() + 10_000;
    while (!storedEvents(id).some((e) => e.type === 'approval.ignored') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const ignored = storedEvents(id).find((e) => e.type === 'approval.ignored');
    expect(ignored?.data.reason).toContain('self-approval');
    expect(deployed()).toBe('');

    expect(approveAs(person('bob@example.com'), id).code).toBe(0);
    const end = await run.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.printed.find((e) => e.type === 'approval.resolved')?.data).toMatchObject({ by: 'bob@example.com' });
  }, 60_000);

  it('a rejection with a reason stops the deploy', async () => {
    const run = startRun();
    const id = (await run.waiting).sessionId;
    const bob = approveAs(person('bob@example.com'), id, '--reject', 'not during the incident');
    expect(bob.code, bob.stderr).toBe(0);
    const end = await run.done;
    expect(end.code).toBe(1);
    const failed = end.printed.find((e) => e.type === 'step.failed');
    expect(failed?.stepId).toBe('approval');
    expect(failed?.data.reason).toContain('rejected by bob@example.com (senior, identity claimed, unsigned): not during the incident');
    expect(deployed()).toBe('');
  }, 60_000);

  it('times out: the step fails when nobody approves in time, and a late approval after an abort is refused', async () => {
    repo.write('checklists/ship.yaml', CHECKLIST('2s'));
    const t0 = Date.now();
    const run = startRun();
    const id = (await run.waiting).sessionId;
    const end = await run.done;
    expect(end.code).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    const failed = end.printed.find((e) => e.type === 'step.failed');
    expect(failed?.data).toMatchObject({ timedOut: true });
    expect(failed?.data.reason).toMatch(
      /^no approval within 2(\.0)?s: nobody gave a senior developer's approval \(alice, bob, Carol\+ops\)$/,
    );
    expect(deployed()).toBe('');

    // Expired: nothing waits.
    const expired = approveAs(person('alice@example.com'), id);
    expect(expired.code).toBe(2);
    expect(expired.stderr).toContain('no approval is waiting');

    // Aborted: the session is closed for decisions.
    expect(cockpit(['--repo', repo.dir, 'abort', id, '--reason', 'not today'], { cwd: repo.dir, env: OPERATOR() }).code).toBe(0);
    const late = approveAs(person('alice@example.com'), id);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`session ${id} has finished (aborted)`);
    expect(storedEvents(id).filter((e) => e.type === 'approval.granted')).toHaveLength(0);
  }, 60_000);

  it('SIGKILL while waiting, an approval meanwhile, then resume: still the same request, the approval counts once', async () => {
    const run = startRun();
    const req = await run.waiting;
    const id = req.sessionId;
    run.child.kill('SIGKILL');
    await run.done;
    const alice = approveAs(person('alice@example.com'), id);
    expect(alice.code, alice.stderr).toBe(0);

    const r = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive', '--json'], { cwd: repo.dir, env: OPERATOR() });
    expect(r.code, r.stderr).toBe(0);
    const events = storedEvents(id);
    expect(events.filter((e) => e.type === 'approval.requested')).toHaveLength(1);
    const resolved = events.filter((e) => e.type === 'approval.resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0].data).toMatchObject({ request: req.seq, outcome: 'approved', by: 'alice@example.com' });
    expect(deployed()).toBe('deployed\n');
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
    expect(cockpit(['--repo', repo.dir, 'audit', 'verify', id]).code).toBe(0);
  }, 60_000);
});

const sshKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).stdout.trim();
// Without ssh-keygen these tests are skipped here, and fail under CI (.ci/run installs openssh-client).
const noSsh = sshKeygen ? '' : ' (skipped: no ssh-keygen)';

describe.skipIf(!sshKeygen && process.env.CI !== 'true')(`approve with approvers.signing: ssh${noSsh}`, () => {
  const key = (name: string) => {
    const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}-${name}-key`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file, '-C', name]);
    return file;
  };

  it('an unsigned or wrongly signed approval does not count; a signed one does, and audit verify catches a tampered one', async () => {
    const alice = key('alice');
    const mallory = key('mallory');
    const allowed = repo.write('.cockpit-allowed-signers', `alice@example.com ${readFileSync(`${alice}.pub`, 'utf8').trim()}\n`);
    config(`  signing: ssh\n  allowedSigners: ${allowed}\n`);
    const run = startRun();
    const req = await run.waiting;
    const id = req.sessionId;
    expect(req.data.signing).toBe('ssh');

    // Only claimed (git config): refused.
    const unsigned = approveAs(person('alice@example.com'), id);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('an unsigned approval does not count');
    // Someone claiming to be alice, signing with a key that is not alice's: refused.
    const forged = approveAs(person('alice@example.com'), id, '--key', mallory);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('the signature does not verify for alice@example.com');

    const signed = approveAs(person('alice@example.com'), id, '--key', alice, '--note', 'ok to ship');
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain('(senior developer, signed)');
    const end = await run.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.printed.find((e) => e.type === 'approval.resolved')?.data).toMatchObject({ proof: 'ssh', by: 'alice@example.com' });

    const ok = cockpit(['--repo', repo.dir, 'audit', 'verify', id]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('1 of 1 signed approval(s) checked');

    // Tamper: the approval now names another version (artefact A's approval reused for B), and the chain after it is
    // recomputed (someone with the file and the code can), so only the signature can tell.
    const db = new Database(path.join(repo.dir, '.cockpit', 'audit.db'));
    const rows = db.prepare('SELECT * FROM events WHERE session_id = ? ORDER BY seq').all(id) as EventRow[];
    const at = rows.findIndex((r) => r.type === 'approval.granted');
    const data = JSON.parse(rows[at].data);
    rows[at].data = JSON.stringify({ ...data, version: '9.9.9' });
    let prev = rows[at - 1].hash;
    const update = db.prepare('UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE session_id = ? AND seq = ?');
    for (const row of rows.slice(at)) {
      const h = eventHash(prev, { ...row, sessionId: row.session_id, stepId: row.step_id, data: JSON.parse(row.data) });
      update.run(row.data, prev, h, id, row.seq);
      prev = h;
    }
    db.prepare('UPDATE sessions SET last_hash = ? WHERE id = ?').run(prev, id);
    db.close();

    const bad = cockpit(['--repo', repo.dir, 'audit', 'verify', id]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`event #${rows[at].seq}: the approval signature of alice@example.com does not verify`));
  }, 60_000);
});

const tmuxOk = Tmux.available();

describe.skipIf(!tmuxOk.ok && process.env.CI !== 'true')(`approve on the screen${tmuxOk.ok ? '' : ' (skipped: no tmux)'}`, () => {
  let term: Tmux | undefined;
  afterEach(() => term?.kill());

  it('the operator sees whom the session waits for; an approval from another shell lets it go on', async () => {
    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} run ship -p version=1.4.0`, {
      cwd: repo.dir,
      env: { NO_COLOR: '1', ...OPERATOR() },
      width: 200,
      height: 30,
    });
    await term.waitForText("waiting for a senior developer's approval (alice, bob, Carol+ops)");
    const id = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout)[0].id;
    const alice = approveAs(person('alice@example.com'), id);
    expect(alice.code, alice.stderr).toBe(0);
    await term.waitForText('2/2 done');
    expect(deployed()).toBe('deployed\n');
    term.type('k');
    await term.waitForText('passed · approved by alice@example.com (senior, identity claimed, unsigned)');
  }, 60_000);
});

const pgInfo = pgTest();

describe.skipIf(!pgInfo.url)(`approve on the shared PostgreSQL store${pgInfo.skipReason}`, () => {
  it('the approver, in their own clone, approves a session that runs elsewhere', async () => {
    const url = await freshDatabase('approve');
    const theirs = tempRepo();
    try {
      theirs.write('cockpit.config.yaml', readFileSync(path.join(repo.dir, 'cockpit.config.yaml'), 'utf8'));
      const run = startRun(OPERATOR(), ['--audit-url', url]);
      const req = await run.waiting;
      const self = cockpit(['--repo', theirs.dir, '--audit-url', url, 'approve', req.sessionId], {
        cwd: theirs.dir,
        env: person('carol@example.com'),
      });
      expect(self.code).toBe(1);
      expect(self.stderr).toContain('self-approval');
      const bob = cockpit(['--repo', theirs.dir, '--audit-url', url, 'approve', req.sessionId, '--note', 'from my clone'], {
        cwd: theirs.dir,
        env: person('bob@example.com'),
      });
      expect(bob.code, bob.stderr).toBe(0);
      const end = await run.done;
      expect(end.code, end.stderr).toBe(0);
      expect(end.printed.find((e) => e.type === 'approval.resolved')?.data).toMatchObject({ outcome: 'approved', by: 'bob@example.com' });
      expect(deployed()).toBe('deployed\n');
      const v = cockpit(['--repo', repo.dir, '--audit-url', url, 'audit', 'verify', req.sessionId], { cwd: repo.dir });
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      theirs.cleanup();
    }
  }, 60_000);
});
