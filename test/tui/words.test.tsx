import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import chalk from 'chalk';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/cli/setup.js';
import type { ParamValue } from '../../src/core/checklist/types.js';
import type { AuditEvent, PlanNode } from '../../src/core/events.js';
import { markdownRuns } from '../../src/core/markdown.js';
import { buildPlan } from '../../src/core/plan.js';
import { reduceAll } from '../../src/core/reducer.js';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import { stepKindMap } from '../../src/steps/index.js';
import { DetailPane } from '../../src/tui/components/DetailPane.js';
import { StepList } from '../../src/tui/components/StepList.js';
import { colorTheme, ThemeContext } from '../../src/tui/theme.js';
import { ROOT } from '../helpers/cli.js';

// Every default checklist's every step, drawn as the session screen draws it (the list and the detail pane), with the
// demo's parameters, before the step starts and once it has started (then the engine's description is shown): no
// template is left unfilled and no Markdown marker is drawn.

/** The demo's parameters: the version `cockpit release` suggests in the demo sandbox (v1.3.0 + a feature), its issue id. */
const DEMO: Record<string, string> = { version: '1.4.0', issue: 'PROP-123', backup_timestamp: '2026-12-06T02:00:00Z' };
const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);

let sandbox: string;
let ws: Workspace;
beforeAll(() => {
  sandbox = path.join(mkdtempSync(path.join(os.tmpdir(), 'cockpit-words-')), 'demo');
  ensureSandbox(sandbox, false);
  ws = new Workspace({ repo: sandbox });
});
afterAll(() => rmSync(path.dirname(sandbox), { recursive: true, force: true }));

function defaults() {
  return ws.listChecklists().filter((c) => c.origin === 'default');
}

/** A session of the checklist as the engine opens it, every leaf step started (with the engine's description). */
function sessionOf(id: string) {
  const { bundle } = ws.mustLoad(id);
  const defs = bundle.root.checklist.params;
  const params: Record<string, ParamValue> = {};
  for (const [name, def] of Object.entries(defs)) {
    const v = DEMO[name] ?? def.default;
    if (v !== undefined) params[name] = v;
    else if (def.required) throw new Error(`no demo value for the required parameter '${name}' of ${id}: add it to DEMO`);
  }
  const planned = buildPlan(bundle, params);
  expect(planned.errors).toEqual([]);
  const settings = { release: ws.config.release ?? {} };
  let seq = 0;
  const ev = (type: string, stepId: string | null, data: unknown): AuditEvent =>
    ({ sessionId: 's1', seq: ++seq, time: T0 + seq * 1000, type, stepId, actor: 'ana', data }) as AuditEvent;
  const started = ev('session.started', null, {
    checklist: { id, title: bundle.root.checklist.title, sha256: 'x' },
    origin: { file: id, byId: true },
    params,
    environment: null,
    operator: 'ana',
    host: 'h',
    pid: 1,
    mode: 'interactive',
    version: '0.1.0',
    plan: planned.plan,
    scopes: planned.scopes,
  });
  const describe = (node: PlanNode) => stepKindMap.get(node.kind)!.describe(node, planned.scopes[node.scope]?.params ?? {}, settings);
  const leaves = planned.plan.filter((n) => n.kind !== 'checklist');
  const before = reduceAll([started])!;
  const after = reduceAll([started, ...leaves.map((n) => ev('step.started', n.path, { attempt: 1, description: describe(n) }))])!;
  return { plan: planned.plan, before, after };
}

function draw(el: React.ReactElement): string {
  const app = render(<ThemeContext.Provider value={colorTheme}>{el}</ThemeContext.Provider>);
  const f = stripVTControlCharacters(app.lastFrame() ?? '');
  app.unmount();
  return f;
}

describe('the words on the session screen', () => {
  it('every default checklist is here to be checked', () => {
    expect(defaults().map((c) => c.id)).toEqual(
      expect.arrayContaining(['release', 'hotfix', 'deploy-production', 'deploy-staging', 'rollback-db']),
    );
  });

  it("no step of any default checklist shows an unfilled ${…} or a Markdown ** in the list or the detail pane, with the demo's parameters", () => {
    const found: string[] = [];
    let drawn = 0;
    for (const { id } of defaults()) {
      const { plan, before, after } = sessionOf(id);
      for (const [when, state] of [
        ['before it starts', before],
        ['once started', after],
      ] as const) {
        const list = draw(<StepList state={state} selected={0} focus={null} width={100} height={plan.length + 1} now={T0} />);
        for (const line of list.split('\n')) if (/\$\{|\*\*/.test(line)) found.push(`${id} step list (${when}): ${line.trim()}`);
        plan.forEach((node, i) => {
          const detail = draw(<DetailPane state={state} index={i} width={100} height={150} asking={null} />);
          drawn++;
          expect(detail).toContain(node.title);
          for (const line of detail.split('\n')) if (/\$\{|\*\*/.test(line)) found.push(`${id} › ${node.path} (${when}): ${line.trim()}`);
        });
      }
    }
    expect(found).toEqual([]);
    expect(drawn).toBeGreaterThan(100);
  });

  it("the policy's Markdown is drawn styled: the words of **Approval** are bold, without asterisks", () => {
    const { plan, before } = sessionOf('deploy-production');
    const i = plan.findIndex((n) => n.policy?.includes('**Approval**'));
    expect(i).toBeGreaterThanOrEqual(0);
    // Colours on for this frame (the test runner has no terminal), so the bold is in the text.
    const level = chalk.level;
    chalk.level = 1;
    let raw: string;
    try {
      const app = render(
        <ThemeContext.Provider value={colorTheme}>
          <DetailPane state={before} index={i} width={100} height={60} asking={null} />
        </ThemeContext.Provider>,
      );
      raw = app.lastFrame() ?? '';
      app.unmount();
    } finally {
      chalk.level = level;
    }
    // Bold on (ESC[1m) right before the word, and no asterisk around it.
    expect(raw).toMatch(/\u001b\[1m(?:\u001b\[[0-9;]*m)*Approval/);
    expect(stripVTControlCharacters(raw)).toMatch(/3\. Approval: Required from at least one senior developer/);
  });
});

describe('Markdown runs', () => {
  it('drops the markers of bold and code and keeps what is not Markdown as written', () => {
    expect(markdownRuns('- **Hotfixes**: As needed, `main` only')).toEqual([
      { text: '- ' },
      { text: 'Hotfixes', strong: true },
      { text: ': As needed, ' },
      { text: 'main', code: true },
      { text: ' only' },
    ]);
    expect(markdownRuns('migrations/*.sql and 2 * 3 and an open ** marker')).toEqual([
      { text: 'migrations/*.sql and 2 * 3 and an open ** marker' },
    ]);
  });
});

// A file name, for this check: a run of path characters ending in one of these extensions (`backend/setup.py`,
// `./scripts/deploy.sh`, `CHANGELOG.md`), not a pattern (`<name>.yaml`, `{x}.sql`, `*.sql`) and not under
// `.cockpit/` (the cockpit's own folder, which a run writes). It must exist in the demo sandbox or in the cockpit's
// own files (its checklists and docs); a bare name (`setup.py`) may be anywhere in either. A step's `policy:` is the
// policy document quoted word for word (test/policy-coverage.test.ts holds it to that), drawn under "Policy (quoted)":
// the tools it names are the policy's (its `python migrate.py`), so it is not held to this; the help, the question
// and what a step does, which are the cockpit's words, are.
const FILE_NAME = /(?<![<{*\w.$/-])(?:\.\/)?[A-Za-z0-9_][A-Za-z0-9_./-]*\.(?:py|sh|sql|yaml|yml|json|md|toml|txt|js|ts)(?![\w>}*-])/g;

function filesIn(dir: string): string[] {
  const r = spawnSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('file names the screens mention', () => {
  it('every file a default checklist names in its own words (title, description, help, prompt, what a step does) exists in the demo or the cockpit', () => {
    const known = new Set([...filesIn(sandbox), ...filesIn(ROOT)]);
    const names = new Set([...known].map((f) => path.basename(f)));
    const exists = (f: string) => {
      const rel = f.replace(/^\.\//, '');
      return rel.includes('/') ? known.has(rel) : names.has(rel);
    };
    const missing: string[] = [];
    let checked = 0;
    for (const { id } of defaults()) {
      const { bundle } = ws.mustLoad(id);
      const { plan, after } = sessionOf(id);
      const texts: Array<[string, string | undefined]> = [
        ['title', bundle.root.checklist.title],
        ['description', bundle.root.checklist.description],
      ];
      plan.forEach((node, i) =>
        texts.push(
          [`${node.path} title`, node.title],
          [`${node.path} help`, node.help],
          [`${node.path} prompt`, typeof node.spec.prompt === 'string' ? node.spec.prompt : undefined],
          [`${node.path} description`, after.steps[i]?.description],
        ),
      );
      for (const [where, text] of texts)
        for (const m of (text ?? '').matchAll(FILE_NAME)) {
          if (m[0].startsWith('.cockpit/')) continue;
          checked++;
          if (!exists(m[0])) missing.push(`${id} › ${where}: ${m[0]}`);
        }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it('the pattern finds what reads as a file name and leaves patterns alone', () => {
    const found = (s: string) => [...s.matchAll(FILE_NAME)].map((m) => m[0]);
    expect(found('run ./scripts/deploy.sh rollback, then python migrate.py upgrade; see backend/setup.py.')).toEqual([
      './scripts/deploy.sh',
      'migrate.py',
      'backend/setup.py',
    ]);
    expect(found('migrations/backfills/<name>.yaml, v{version}.md, migrations/*.sql, $HOME.json')).toEqual([]);
  });
});
