import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, cockpitAsync, tempRepo, type CliResult } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// One runner per session, tried the way it breaks: several `cockpit resume` of one paused session started at the
// same moment, round after round, as real processes on the real stores. Each step's effect appends a line to a
// file; every line must be there exactly once, exactly one resume may run the steps, and the log must verify.

const pgInfo = pgTest();
const ROUNDS = Number(process.env.RACE_ROUNDS ?? 20);
/** Rounds of concurrent runs against one environment (fewer: each round is n full runs). */
const ENV_ROUNDS = Math.max(1, Math.floor(ROUNDS / 2));

const RACE = `id: race
title: Race
params:
  round: {type: string}
steps:
  - id: approval
    title: Go ahead
    kind: confirm
  - id: a
    title: A
    kind: run
    run: echo "r$COCKPIT_PARAM_ROUND a" >> effects.log
  - id: b
    title: B
    kind: run
    run: echo "r$COCKPIT_PARAM_ROUND b" >> effects.log
  - id: c
    title: C
    kind: run
    run: echo "r$COCKPIT_PARAM_ROUND c" >> effects.log
`;

const ENV_RACE = `id: envrace
title: Environment race
params:
  environment: {type: string}
  round: {type: string}
steps:
  - id: deploy
    title: Deploy
    kind: run
    run: echo "r$COCKPIT_PARAM_ROUND start" >> env-effects.log; sleep 0.3; echo "r$COCKPIT_PARAM_ROUND end" >> env-effects.log
`;

/** `cockpit …` as a child that runs alongside others; resolves with what it printed and its exit code. */
function started(args: string[], cwd: string): Promise<CliResult> {
  const child = cockpitAsync(args, { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function raceSuite(store: () => string[]) {
  let repo: ReturnType<typeof tempRepo>;
  const c = (...args: string[]) => cockpit(['--repo', repo.dir, ...store(), ...args], { cwd: repo.dir });

  beforeAll(() => {
    repo = tempRepo({ race: RACE, envrace: ENV_RACE });
  });
  afterAll(() => repo.cleanup());

  for (const n of [2, 5]) {
    it(`${ROUNDS} rounds of ${n} resumes of one paused session at once: one runs, each effect happens once, the log verifies`, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        const tag = `${n}-${round}`;
        const paused = c('run', 'race', '-p', `round=${tag}`, '--non-interactive', '--json');
        expect(paused.code, paused.stderr).toBe(1); // waits for the confirmation
        const id = (JSON.parse(paused.stdout.split('\n').find((l) => l.includes('"session.started"'))!) as { sessionId: string }).sessionId;
        const all = await Promise.all(
          Array.from({ length: n }, () =>
            started(['--repo', repo.dir, ...store(), 'resume', id, '--non-interactive', '--yes', 'approval'], repo.dir),
          ),
        );
        const effects = readFileSync(path.join(repo.dir, 'effects.log'), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`r${tag} `));
        expect(effects).toEqual([`r${tag} a`, `r${tag} b`, `r${tag} c`]);
        const ran = all.filter((r) => r.code === 0);
        expect(ran, all.map((r) => `${r.code}: ${r.stderr}`).join('\n')).toHaveLength(1);
        for (const r of all.filter((x) => x.code !== 0)) {
          // The others were told who runs it (exit 1), or found it already finished (exit 2): never a second run.
          expect(r.stderr).toMatch(
            new RegExp(
              `session ${id} is being run by tester@\\S+, pid \\d+, since \\d\\d:\\d\\d:\\d\\d UTC \\(resume race\\)|already finished`,
            ),
          );
        }
      }
      const v = c('audit', 'verify');
      expect(v.code, v.stdout + v.stderr).toBe(0);
    }, 300_000);

    it(`${ENV_ROUNDS} rounds of ${n} runs on one environment at once: one holds it and runs, the others are told who`, async () => {
      for (let round = 1; round <= ENV_ROUNDS; round++) {
        const tag = `${n}-${round}`;
        const all = await Promise.all(
          Array.from({ length: n }, () =>
            started(
              ['--repo', repo.dir, ...store(), 'run', 'envrace', '-p', 'environment=production', '-p', `round=${tag}`, '--non-interactive'],
              repo.dir,
            ),
          ),
        );
        const effects = readFileSync(path.join(repo.dir, 'env-effects.log'), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`r${tag} `));
        const ran = all.filter((r) => r.code === 0);
        // Runs that start after the winner finished may run too (the environment is free again), but never two at
        // once: every deploy ends before the next one starts, and each run that passed deployed once.
        expect(ran.length).toBeGreaterThanOrEqual(1);
        expect(effects).toEqual(Array.from({ length: ran.length }, () => [`r${tag} start`, `r${tag} end`]).flat());
        for (const r of all.filter((x) => x.code !== 0))
          expect(r.stderr).toMatch(
            /environment 'production' is in use by session \S+, run by tester@\S+, pid \d+, since .* UTC \(run envrace\)/,
          );
      }
      const v = c('audit', 'verify');
      expect(v.code, v.stdout + v.stderr).toBe(0);
    }, 300_000);
  }
}

describe('races on the SQLite store', () => {
  raceSuite(() => []);
});

describe.skipIf(!pgInfo.url)(`races on the PostgreSQL store${pgInfo.skipReason}`, () => {
  let url = '';
  beforeAll(async () => {
    url = await freshDatabase('races');
  });
  raceSuite(() => ['--audit-url', url]);
});
