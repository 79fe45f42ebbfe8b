import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import {
  cleanupPrometheusHarness,
  prometheusTest,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';
import { frameProblem, rows, Tmux } from '../helpers/tmux.js';

// Readable from 80x24 up (issue 14): each screen in a real terminal (tmux) at 80x24, 100x30 and 160x50 — the
// window resized under one running cockpit, as a user drags it — and what must never be cut checked in the capture:
// the failed step's title, its state and its whole error (joined across the rows the detail pane wraps them to),
// columns aligned with CJK and emoji names (measured in terminal cells), the migrations' lint badges whole.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);
const prom = prometheusTest();
const pgInfo = pgTest();

const SIZES = [
  [80, 24],
  [100, 30],
  [160, 50],
] as const;

const TITLE = 'Check the replicated database snapshot on every standby region';
const SINCE = 'the deploy of version 1.4.0 to the European production cluster, right after the database failover drill on Tuesday';
const ERROR = `since '${SINCE}' is not a time (ISO-8601 such as 2026-01-05T12:00:00Z, or unix seconds)`;

const ABOUT = 'A release whose names are long on purpose: every screen must show its title, its state and its error whole, from 80x24 up.';
// As long as the reason `cockpit release` gives for the version it suggests (the form shows it under the field).
const SINCE_ABOUT =
  'suggested from 14 commit(s) since v1.3.0: a minor version, because feat(search) adds saved searches and no commit says BREAKING CHANGE';
const CHECKLIST = `id: layout
title: Layout of a release with long names
description: "${ABOUT}"
params:
  since: {type: string, description: "${SINCE_ABOUT}"}
steps:
  - id: notes
    title: 准备发布说明 and notes
    kind: run
    run: echo ready
  - id: rocket
    title: 🚀 Launch the rocket
    kind: run
    run: echo go
  - id: snapshot
    title: ${TITLE}
    kind: watch
    since: "\${since}"
    duration: 1m
    help: Compares the snapshots of every region.
  - id: after
    title: Announce
    kind: confirm
    prompt: Announced?
`;

/** Columns a captured row takes in the terminal (a CJK character or an emoji takes two). */
const cells = (s: string) => stringWidth(s);

/** The text right of the step list's divider, row by row, joined: what the detail pane says, unwrapped. */
function detailText(screen: string): string {
  return rows(screen)
    .map((l) => (l.includes('│') ? l.slice(l.indexOf('│') + 1) : ''))
    .join(' ')
    .replace(/\s+/g, ' ');
}

/** The cell where `needle` starts in `row` (the rows' columns line up when these are equal). */
const cellOf = (row: string, needle: string) => cells(row.slice(0, row.indexOf(needle)));

describe.skipIf(!tmuxOk.ok)(`the screens at 80x24, 100x30 and 160x50 (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let home: string;
  let term: Tmux | undefined;
  let sessionId: string;

  beforeAll(() => {
    repo = tempRepo({ layout: CHECKLIST });
    // A watch is configured (the failing step fails on its parameter before it asks Prometheus anything).
    repo.write('cockpit.config.yaml', 'watch:\n  prometheus:\n    url: http://127.0.0.1:9\n');
    home = mkdtempSync(path.join(os.tmpdir(), 'cockpit-layout-home-'));
    // Two sessions that failed, by operators whose names are CJK and emoji: the home screen's columns must line up.
    for (const operator of ['张伟', 'ops🚀']) {
      const r = cockpit(['--repo', repo.dir, 'run', 'layout', '--non-interactive', '-p', `since=${SINCE}`], {
        env: { COCKPIT_OPERATOR: operator, HOME: home },
      });
      expect(r.code, r.stderr + r.stdout).toBe(1);
    }
    const list = cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { env: { HOME: home } });
    sessionId = (JSON.parse(list.stdout) as Array<{ id: string }>)[0].id;
  });
  afterAll(() => {
    term?.kill();
    repo?.cleanup();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  function open(args: string, cwd = repo.dir, env: Record<string, string> = {}): Tmux {
    term?.kill();
    term = new Tmux(`${process.execPath} ${BIN} ${args}`, {
      cwd,
      env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: home, ...env },
      width: SIZES[0][0],
      height: SIZES[0][1],
    });
    return term;
  }

  /** Resize to w x h, wait for a settled frame that satisfies `pred`, and check that it fits the terminal. */
  async function at(w: number, h: number, pred: (s: string) => boolean, what: string): Promise<string> {
    term!.resize(w, h);
    // Drawn for this size (not the frame from before the resize): the status bar on the frame's last row, h - 1
    // (ending in `? help`, or `ctrl-c quit` in a form's text field, where `?` is typed).
    const ok = (x: string) =>
      frameProblem(x, w, h) === null &&
      /\? help|ctrl-c quit/.test(rows(x).at(h - 2) ?? '') &&
      rows(x).every((l) => cells(l) <= w) &&
      pred(x);
    let s = await term!.waitFor(ok, `${what} at ${w}x${h}`);
    s = await term!.settled(s);
    expect(ok(s), `${what} at ${w}x${h}, settled:\n${s}`).toBe(true);
    return s;
  }

  it(
    'home: the session columns stay aligned with CJK and emoji names; the form shows the checklist whole',
    { timeout: 60_000 },
    async () => {
      open(`--repo ${repo.dir}`);
      for (const [w, h] of SIZES) {
        const s = await at(w, h, (x) => x.includes(' Sessions (2') && x.includes('ops🚀'), 'the home screen');
        const sessionRows = rows(s).filter((l) => /\d{8}-\d{6}-[0-9a-f]{4}/.test(l));
        expect(sessionRows, s).toHaveLength(2);
        // The state, checklist and operator columns start at the same cell on both rows, whatever the names' widths.
        for (const needle of ['layout', 'failed (resumable)']) {
          const at0 = cellOf(sessionRows[0], needle);
          expect(
            sessionRows.map((r) => cellOf(r, needle)),
            `${needle} at ${w}x${h}:\n${s}`,
          ).toEqual([at0, at0]);
        }
        if (w >= 100) {
          const ops = sessionRows.map((r) => (r.includes('张伟') ? cellOf(r, '张伟') : cellOf(r, 'ops🚀')));
          expect(ops[0], s).toBe(ops[1]);
        }
      }
      // Tab to the checklists, then ↵ on layout: the form.
      term!.send('Tab');
      await term!.waitFor((x) => /^› layout\s/m.test(x), 'the layout checklist selected');
      term!.send('Enter');
      for (const [w, h] of SIZES) {
        const s = await at(w, h, (x) => x.includes('Start Layout of a release with long names [layout]'), 'the parameter form');
        expect(s).toMatch(/^› since\s/m);
        // The field's description (the suggested version's reason), wrapped under it: whole once its rows are joined.
        const field = rows(s).findIndex((l) => /^› since\s/.test(l));
        expect(
          rows(s)
            .slice(field + 1, field + 5)
            .join(' ')
            .replace(/\s+/g, ' '),
          s,
        ).toContain(SINCE_ABOUT);
        // The description, wrapped to the width: whole once its rows are joined.
        expect(rows(s).slice(1, 3).join(' ').replace(/\s+/g, ' '), s).toContain(ABOUT);
      }
    },
  );

  it(
    'the checklist with a failed step: its whole title, FAILED and the whole error at every size; replay the same',
    { timeout: 60_000 },
    async () => {
      // Resume the newest failed session: the step runs again and fails again, the same way.
      open(`--repo ${repo.dir}`);
      await at(80, 24, (x) => /^›[✖?⚠] /m.test(x), 'the home screen');
      term!.send('Enter');
      await term!.waitFor((x) => x.includes('[FAILED]'), 'the resumed session to fail again');
      const check = (s: string) => {
        const detail = detailText(s);
        return detail.includes(`${TITLE} [snapshot] (watch)`) && detail.includes(`FAILED: ${ERROR}`) && detail.includes('What next:');
      };
      for (const [w, h] of SIZES) {
        const s = await at(w, h, check, 'the failed step in full');
        expect(s).toMatch(/^\[FAILED\] Layout of a release with long names/m);
        // The header keeps the progress and the failure count at every width.
        expect(s).toMatch(/2\/4 done · 1 failed/);
        // The step list: the state glyph and the title's start at every size, the CJK and emoji titles whole.
        expect(s).toMatch(/^› 3 ✖ Check the replicated/m);
        expect(s).toContain('准备发布说明 and notes');
        expect(s).toContain('🚀 Launch the rocket');
        // The durations of the two passed steps end on the same cell (the list pads by cells, not characters).
        const list = rows(s).filter((l) => /^ {2}[12] ✔ /.test(l));
        const ends = list.map((l) => cells(l.slice(0, l.indexOf('│'))));
        expect(ends[0], s).toBe(ends[1]);
        if (w >= 160) expect(s).toContain(`3 ✖ ${TITLE}`);
      }
      term!.send('q');
      await term!.waitForExit();

      open(`--repo ${repo.dir} replay ${sessionId}`);
      await at(80, 24, (x) => x.includes('REPLAY'), 'the replay');
      term!.send('G');
      for (const [w, h] of SIZES) {
        const s = await at(w, h, (x) => check(x) && /\(event (\d+)\/\1\)/.test(x), 'the replay at its end');
        expect(s).toMatch(/\[FAILED\] Layout of a release with long names/);
      }
    },
  );

  describe.skipIf(!prom.ok)(`the monitor panel against a real Prometheus${prom.skipReason}`, () => {
    let svc: MetricsService;
    let server: PromServer;
    beforeAll(async () => {
      ({ svc: svc, prom: server } = await startWatchedService({ dbCpuPercent: 35 }));
    }, 60_000);
    afterAll(async () => {
      await svc?.stop();
      await cleanupPrometheusHarness();
    });

    it('rule names in CJK and emoji keep the columns aligned; value and verdict at every size', { timeout: 60_000 }, async () => {
      const r = tempRepo();
      try {
        r.write(
          'cockpit.config.yaml',
          [
            'watch:',
            '  prometheus:',
            '    url: http://127.0.0.1:9',
            '  window: 5s',
            '  disable: [error_rate_increase, latency_p95_increase]',
            '  rules:',
            '    - {id: db_cpu_high, title: "数据库 CPU 超过 80%"}',
            '    - {id: payment_failure_ratio_high, title: "💳 Payment failures over 1%"}',
            '',
          ].join('\n'),
        );
        open(`watch --prometheus ${server.url} --duration 1m --interval 1s`, r.dir);
        for (const [w, h] of SIZES) {
          const s = await at(
            w,
            h,
            (x) =>
              /数据库 CPU 超过 80%\s+\d.*[▁▂▃▄▅▆▇█]{3}/.test(x) &&
              /💳 Payment failures over 1%\s+\d.*[▁▂▃▄▅▆▇█]{3}/.test(x) &&
              /Any failed payment\s+\d/.test(x),
            'the panel with values and a few samples',
          );
          const head = rows(s).find((l) => /^\s+Rule\s+Value/.test(l))!;
          const names = ['数据库 CPU 超过 80%', '💳 Payment failures over 1%', 'Any failed payment'];
          // The value column starts where its heading does, on every row, whatever the names' widths.
          const value = cellOf(head, 'Value');
          for (const name of names) {
            const row = rows(s).find((l) => l.includes(name))!;
            const end = row.indexOf(name) + name.length;
            const gap = row.slice(end).length - row.slice(end).trimStart().length;
            expect(gap, `${row} at ${w}x${h}`).toBeGreaterThanOrEqual(1);
            expect(cells(row.slice(0, end)) + gap, `${row} at ${w}x${h}:\n${s}`).toBe(value);
            // The verdict word is shown on every row, and the recent samples' sparkline before it.
            expect(row, s).toMatch(/\b(ok|BREACHED|FAIL|no data|waiting)$/);
            expect(row, `the sparkline at ${w}x${h}:\n${s}`).toMatch(/[▁▂▃▄▅▆▇█·]{3,}\s+\S+$/);
          }
          expect(head, s).toContain('Recent');
          // The header's second line keeps the session's id and the operator at every width.
          expect(rows(s)[1], s).toMatch(/session \d{8}-\d{6}-[0-9a-f]{4}\b/);
          expect(rows(s)[1], s).toContain('operator alice');
        }
        term!.send('q');
        await term!.waitForText('Stop it and quit?');
        term!.send('y');
        await term!.waitForExit();
      } finally {
        r.cleanup();
      }
    });
  });

  describe.skipIf(!pgInfo.url)(`the migrations over a real PostgreSQL${pgInfo.skipReason}`, () => {
    it(
      'each lint badge whole at every size (the name gives way); the selected migration’s name whole in its detail',
      { timeout: 60_000 },
      async () => {
        const url = await freshDatabase('layout_migrations');
        const r = tempRepo();
        try {
          r.write('cockpit.config.yaml', `database:\n  url: ${url}\n`);
          r.write(
            'migrations/20260101000000_create_the_listings_table_with_prices_and_cities.sql',
            "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key, city text, price int);\n-- migrate:down\nDROP TABLE listings;\n",
          );
          r.write(
            'migrations/20260101000100_index_the_listings_by_city_for_the_search_page.sql',
            "-- migrate:up\nSET lock_timeout = '5s';\nCREATE INDEX listings_city_idx ON listings (city);\n-- migrate:down\nDROP INDEX listings_city_idx;\n",
          );
          open('migrate', r.dir);
          for (const [w, h] of SIZES) {
            const s = await at(w, h, (x) => x.includes('Migrations: 0 applied · 2 pending'), 'the migration screen');
            const listRows = rows(s).filter((l) => /^[› ] · 2026/.test(l));
            expect(listRows, s).toHaveLength(2);
            const [create, index] = listRows.map((l) => l.split('│')[0].trimEnd());
            expect(create, s).toMatch(/ ✔ lint$/);
            expect(index, s).toMatch(/ ✖1$/);
            // The selected (first) migration's whole name is in its detail.
            // (A name longer than the pane is broken across its rows: joined without the breaks.)
            expect(detailText(s).replace(/ /g, '')).toContain('20260101000000create_the_listings_table_with_prices_and_cities');
          }
          term!.send('q');
          await term!.waitForExit();
        } finally {
          r.cleanup();
        }
      },
    );
  });
});
