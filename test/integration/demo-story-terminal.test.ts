// The demo's whole story in a real terminal (tmux, 100x30), as a new user plays it: `cockpit demo --scenario
// bad-payments` brings up PostgreSQL, the chat and status-page receivers, the Property app v1.3.0 behind HAProxy,
// Prometheus and traffic; the home's story line leads from the release of v1.4.0 to staging, then to production,
// where the approval is given with one key as the demo's senior; after the switch the watch breaches "Any failed
// payment" and advises a rollback, R runs rollback-code, traffic goes back to blue (1.3.0) and the recovery clock
// says the objective was met; the chat and status page got the rollback notice; the audit log verifies and its
// Markdown report has the recovery time. Quitting stops every process of the demo (checked by pid).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverBinaries } from '../../src/adapters/pg-server.js';
import { processesFile } from '../../src/demo/supervisor.js';
import type { StartedService } from '../../src/demo/service.js';
import { BIN, cockpit } from '../helpers/cli.js';
import { isAlive, prometheusBinaries } from '../helpers/prometheus.js';
import { Tmux, rows } from '../helpers/tmux.js';

const missing = [
  !Tmux.available().ok && 'tmux',
  spawnSync('haproxy', ['-v']).status !== 0 && 'haproxy (apt-get install haproxy)',
  !serverBinaries().ok && 'PostgreSQL server binaries',
  'missing' in prometheusBinaries() && 'prometheus (apt-get install prometheus)',
].filter(Boolean);
if (missing.length && process.env.CI === 'true') throw new Error(`the demo story test needs ${missing.join(', ')} in CI`);

const base = mkdtempSync(path.join(os.tmpdir(), 'cockpit-story-'));
const dir = path.join(base, 'demo');
const cache = path.join(base, 'cache');
let recorded: number[] = [];

afterAll(() => {
  // Whatever happened, nothing of the demo is left behind.
  if (existsSync(dir)) cockpit(['demo', '--stop', '--dir', dir], { timeout: 60_000 });
  rmSync(base, { recursive: true, force: true });
});

const statusBar = (s: string) =>
  rows(s)
    .filter((l) => l.trim())
    .at(-1) ?? '';

describe.skipIf(missing.length > 0)(
  `the demo's bad-payments story in a terminal${missing.length ? ` (skipped: ${missing.join(', ')} missing)` : ''}`,
  () => {
    it(
      'release → staging → production (approved with A) → watch breach → R → rolled back, then everything stops',
      { timeout: 240_000 },
      async () => {
        const t = new Tmux(`${process.execPath} ${BIN} demo --dir ${dir} --scenario bad-payments`, {
          cwd: base,
          width: 100,
          height: 30,
          env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', XDG_CACHE_HOME: cache },
        });
        /** Answers what the session asks (↵ on a confirmation or a message to send, A on the demo's approval) until `done`. */
        const answerUntil = async (done: (s: string) => boolean, what: string, timeoutMs = 60_000) => {
          const until = Date.now() + timeoutMs;
          let last = '';
          while (Date.now() < until) {
            last = await t.settled(t.screen());
            if (done(last)) return last;
            const bar = statusBar(last);
            if (/^ CONFIRM /.test(bar)) t.send('Enter');
            else if (/A approve \(demo\)/.test(bar)) t.send('A');
            else if (/^ FAILED|^ STOPPED/.test(bar)) throw new Error(`the session stopped while waiting for ${what}:\n${last}`);
            await new Promise((r) => setTimeout(r, 150));
          }
          throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
        };
        /** From home: the checklist named, its form (the suggested version), started. */
        const start = async (checklist: string) => {
          t.send('/');
          t.type(checklist);
          t.send('Enter');
          await t.waitFor((s) => / HOME /.test(statusBar(s)), 'the filter kept');
          // The filter also matches titles and descriptions: down to the checklist itself.
          const selected = new RegExp(`^› ${checklist} `, 'm');
          for (let i = 0; i < 12 && !selected.test(await t.settled(t.screen())); i++) t.send('Down');
          await t.waitFor((s) => selected.test(s), `${checklist} selected`);
          t.send('Enter');
          // The version is suggested from git (v1.4.0: the next minor, then the newest tag on main).
          await t.waitFor((s) => / FORM /.test(statusBar(s)) && /suggested: /.test(s), `the form of ${checklist}, its version suggested`);
          t.send('Enter');
        };
        const home = async (story: RegExp) => {
          t.send('Escape');
          return t.waitFor((s) => story.test(s) && / HOME /.test(s), `home with the story at ${story}`, 15_000);
        };
        try {
          const first = await t.waitFor((s) => /^Story: ▶ release v1\.4\.0/m.test(s), 'the home screen with the story', 90_000);
          expect(first).toMatch(/Next: release v1\.4\.0/);
          recorded = (JSON.parse(readFileSync(processesFile(dir), 'utf8')) as { services: StartedService[] }).services.flatMap((s) =>
            s.processes.map((p) => p.pid),
          );
          expect(recorded.filter((p) => isAlive(p))).toEqual(recorded);

          await start('release');
          await answerUntil((s) => /^\[DONE\] Bi-weekly release/m.test(s), 'the release done', 90_000);
          await home(/^Story: ✔ release v1\.4\.0 → ▶ staging/m);

          await start('deploy-staging');
          await answerUntil((s) => /^\[DONE\] Staging deployment/m.test(s), 'the staging deploy done');
          await home(/✔ staging → ▶ production/);

          await start('deploy-production');
          // The approval: said as what it is in real life, given here with A (answerUntil presses it).
          await t.waitForText('In real life Ben Okafor', 30_000);
          const breach = await answerUntil((s) => /Consider a rollback \(R starts it\)/.test(s), 'the watch to advise a rollback', 120_000);
          expect(breach).toMatch(/✖ Any failed payment .*BREACHED/);
          t.send('R');
          await t.waitForText('Start the rollback (rollback-code)?');
          t.send('y');
          await t.waitFor((s) => / FORM /.test(s) && /Code rollback/.test(s), 'the rollback form');
          t.send('Enter');
          const done = await answerUntil((s) => /^\[DONE\] Code rollback/m.test(s), 'the rollback done');
          expect(done).toMatch(/recovered in \S+ \(objective 15m: met\)/);

          // Traffic is back on blue, 1.3.0.
          const status = spawnSync('./scripts/deploy.sh', ['status', '--env', 'production', '--json'], { cwd: dir, encoding: 'utf8' });
          expect(JSON.parse(status.stdout)).toMatchObject({ live: 'blue', version: '1.3.0', healthy: true });
          const messages = cockpit(['demo', '--messages', '--dir', dir]).stdout;
          expect(messages).toMatch(/chat +Rollback: production back on 1\.3\.0/);
          expect(messages).toMatch(/status page +'Deployment of v1\.4\.0 to production' → completed/);

          // Home tells the end of the story: the watch breached, the code went back.
          await home(/✔ production → ✔ breach → ✔ rolled back/);
          t.send('q');
          const end = await t.waitFor((s) => /The cockpit quit: stopped the demo's \d+ processes/.test(s), 'the services stopped', 30_000);
          expect(end).not.toContain('keeps serving');
          expect(await t.waitForExit(30_000)).toBe(0);
        } finally {
          t.kill();
        }
        // No process of the demo is left: the recorded ones, and the apps deploys started later (deploy.sh stop).
        expect(recorded.filter((p) => isAlive(p))).toEqual([]);
        expect(existsSync(processesFile(dir))).toBe(false);
        const st = JSON.parse(readFileSync(path.join(dir, '.cockpit', 'bluegreen', 'production', 'state.json'), 'utf8')) as {
          colours: Record<string, { pid: number } | undefined>;
        };
        for (const c of Object.values(st.colours)) if (c) expect(isAlive(c.pid)).toBe(false);

        // What was recorded verifies, and the rollback's report has its recovery time.
        expect(cockpit(['--repo', dir, 'audit', 'verify']).code).toBe(0);
        const list = JSON.parse(cockpit(['--repo', dir, 'audit', 'list', '--json']).stdout) as Array<{ id: string; checklist: string }>;
        const rollback = list.find((s) => s.checklist === 'rollback-code');
        expect(rollback).toBeDefined();
        const md = cockpit(['--repo', dir, 'audit', 'show', rollback!.id, '--format', 'md']).stdout;
        expect(md).toMatch(/\| Recovery \| recovered in \S+ \(objective 15m: met\)/);
      },
    );
  },
);
