import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { loadBundle, type ChecklistResolver } from '../../src/core/checklist/bundle.js';
import { parseChecklist } from '../../src/core/checklist/load.js';
import { formatDiagnostic, type ChecklistSource, type Diagnostic, type ParamDef } from '../../src/core/checklist/types.js';
import { coerceParam, evaluateConditions, interpolate, resolveParams, templateRefs } from '../../src/core/params.js';
import { buildPlan } from '../../src/core/plan.js';
import { STEP_KINDS } from '../../src/steps/index.js';

const CHECKLIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../checklists');

/** One YAML document from its lines, so line numbers in the assertions are easy to count. */
const yaml = (...lines: string[]) => lines.join('\n') + '\n';

const source = (id: string, text: string, file = `${id}.yaml`): ChecklistSource => ({ id, file, text });

function memoryResolver(texts: Record<string, string>): ChecklistResolver {
  const sources: Record<string, ChecklistSource> = {};
  for (const [id, text] of Object.entries(texts)) sources[id] = source(id, text);
  return { find: (id) => sources[id] ?? null, describe: () => 'test checklists' };
}

/** Parse one file that must be refused; the diagnostics as `file:line:column: message`. */
function refused(text: string, file = 'a.yaml'): string[] {
  const r = parseChecklist(source('a', text, file), STEP_KINDS);
  expect(r.parsed).toBeUndefined();
  expect(r.diagnostics.length).toBeGreaterThan(0);
  return r.diagnostics.map(formatDiagnostic);
}

/** Load a bundle from in-memory sources that must be refused. */
function refusedBundle(rootId: string, texts: Record<string, string>): string[] {
  const r = loadBundle(source(rootId, texts[rootId]), memoryResolver(texts), STEP_KINDS);
  expect(r.bundle).toBeUndefined();
  expect(r.diagnostics.length).toBeGreaterThan(0);
  return r.diagnostics.map(formatDiagnostic);
}

/** Exactly one diagnostic, at `where` (file:line:column), whose message matches `message`. */
function expectOnly(diags: string[], where: string, message: RegExp) {
  expect(diags).toHaveLength(1);
  expectAt(diags[0], where, message);
}

function expectAt(diag: string, where: string, message: RegExp) {
  const prefix = `${where}: `;
  expect(diag.slice(0, prefix.length)).toBe(prefix);
  expect(diag.slice(prefix.length)).toMatch(message);
}

/** A checklist with one step of the given kind and extra fields (each a line, indented 4). */
const oneStep = (kind: string, ...fields: string[]) =>
  yaml('id: a', 'title: A', 'steps:', '  - id: only', '    title: Only step', `    kind: ${kind}`, ...fields);

describe('formatDiagnostic', () => {
  it('is file:line:column: message', () => {
    const d: Diagnostic = { file: 'x/y.yaml', line: 3, column: 7, message: 'oops' };
    expect(formatDiagnostic(d)).toBe('x/y.yaml:3:7: oops');
  });
});

describe('parseChecklist refuses, at the right place, with what was expected', () => {
  it('a tab-indented line: YAML syntax error at the tab', () => {
    const diags = refused(
      yaml(
        'id: a', //            1
        'title: A', //         2
        'steps:', //           3
        '  - id: x', //        4
        '\ttitle: X', //       5  ← tab
        '    kind: confirm', //6
      ),
    );
    expectAt(diags[0], 'a.yaml:5:1', /^invalid YAML: .*tabs? .*indentation/i);
    for (const d of diags) expect(d).toMatch(/^a\.yaml:5:\d+: invalid YAML: /);
  });

  it('an unclosed quote: YAML syntax error where the parser notices it (end of the document)', () => {
    // A double-quoted scalar may span lines, so the parser only knows the quote is unclosed at the end of
    // the input: the position is the end of the file (line 7), not the opening quote on line 2.
    const diags = refused(yaml('id: a', 'title: "A', 'steps:', '  - id: x', '    title: X', '    kind: confirm'));
    expectOnly(diags, 'a.yaml:7:1', /^invalid YAML: missing closing "?quote/i);
  });

  it('an unknown step kind: at the value of kind, listing the known kinds', () => {
    const diags = refused(oneStep('deploy-magic'));
    //                                 kind: deploy-magic  → line 6, the value starts at column 11
    expectOnly(diags, 'a.yaml:6:11', /unknown step kind 'deploy-magic'; expected one of: confirm, run, checklist/);
  });

  it('a step without kind: at the step, naming the missing field and the kinds', () => {
    const diags = refused(yaml('id: a', 'title: A', 'steps:', '  - id: x', '    title: X'));
    expectOnly(
      diags,
      'a.yaml:4:5',
      /step 'x': missing required field 'kind' \(one of: confirm, run, checklist, git\.branch, git\.merge, git\.tag, git\.push, git\.remote, bump, notes, freeze, migrate, watch, backup, restore, smoke, approve, build, deploy, switch, rollback, verify, notify, publish\)/,
    );
  });

  it('an unknown key in a run step: at the key, with a suggestion and the allowed keys', () => {
    const diags = refused(oneStep('run', '    run: make test', '    tiemout: 5m'));
    expectOnly(diags, 'a.yaml:8:5', /unknown key 'tiemout' in step 'only' \(did you mean 'timeout'\?\); expected one of: .*\btimeout\b/);
  });

  it('an unknown key in a confirm step suggests the confirm field', () => {
    const diags = refused(oneStep('confirm', '    promt: Done?'));
    expectOnly(diags, 'a.yaml:7:5', /unknown key 'promt' in step 'only' \(did you mean 'prompt'\?\)/);
  });

  it('an unknown top-level key: at the key', () => {
    const diags = refused(yaml('id: a', 'title: A', 'descripton: typo', 'steps:', '  - id: x', '    title: X', '    kind: confirm'));
    expectOnly(
      diags,
      'a.yaml:3:1',
      /unknown key 'descripton' in checklist \(did you mean 'description'\?\); expected one of: id, title, description, policy, params, steps/,
    );
  });

  it('an unknown key with no close match: no suggestion, but the allowed keys', () => {
    const diags = refused(yaml('id: a', 'title: A', 'owner: ops', 'steps:', '  - id: x', '    title: X', '    kind: confirm'));
    expectOnly(diags, 'a.yaml:3:1', /^unknown key 'owner' in checklist; expected one of: id, title/);
    expect(diags[0]).not.toMatch(/did you mean/);
  });

  it('an unknown key in a parameter definition: at the key', () => {
    const diags = refused(
      yaml(
        'id: a',
        'title: A',
        'params:',
        '  version:',
        '    type: semver',
        '    requird: true',
        'steps:',
        '  - id: x',
        '    title: X',
        '    kind: confirm',
      ),
    );
    expectOnly(
      diags,
      'a.yaml:6:5',
      /unknown key 'requird' in parameter 'version' \(did you mean 'required'\?\); expected one of: type, required, default/,
    );
  });

  it('a duplicate step id: at the second id', () => {
    const diags = refused(
      yaml(
        'id: a',
        'title: A',
        'steps:',
        '  - id: build', //     4
        '    title: Build',
        '    kind: confirm',
        '  - id: build', //     7  ← the value starts at column 9
        '    title: Build again',
        '    kind: confirm',
      ),
    );
    expectOnly(diags, 'a.yaml:7:9', /duplicate step id 'build' \(first used by step 1\)/);
  });

  it('a step without title: at the step', () => {
    const diags = refused(yaml('id: a', 'title: A', 'steps:', '  - id: x', '    kind: confirm'));
    expectOnly(diags, 'a.yaml:4:5', /step 'x': missing required field 'title'/);
  });

  it('a checklist without steps: at the start of the document', () => {
    const diags = refused(yaml('id: a', 'title: A'));
    expectOnly(diags, 'a.yaml:1:1', /checklist: missing required field 'steps'/);
  });

  it('a checklist with an empty step list', () => {
    const diags = refused(yaml('id: a', 'title: A', 'steps: []'));
    expectOnly(diags, 'a.yaml:3:8', /expected at least one step/);
  });

  it('a run step without run: at the step, naming the missing field', () => {
    const diags = refused(oneStep('run', '    timeout: 5m'));
    expectOnly(diags, 'a.yaml:4:5', /step 'only': missing required field 'run'$/);
  });

  it('a run step whose run is neither a string nor a list: what was expected and what was given', () => {
    const diags = refused(oneStep('run', '    run: 5'));
    expectOnly(diags, 'a.yaml:7:10', /step 'only': run: expected a string or a list, got number 5/);
  });

  it('a bad duration: at the value, with examples of good ones', () => {
    const diags = refused(oneStep('run', '    run: make', '    timeout: 5 minutes'));
    expectOnly(diags, 'a.yaml:8:14', /step 'only': timeout: expected a duration like 30s, 5m, 2h or 1h30m/);
  });

  it('a step id that is not a slug', () => {
    const diags = refused(yaml('id: a', 'title: A', 'steps:', '  - id: Build_It', '    title: X', '    kind: confirm'));
    expectOnly(diags, 'a.yaml:4:9', /expected a step id of lowercase letters, digits and dashes/);
  });

  it('a document that is not a mapping', () => {
    const diags = refused(yaml('- just', '- a list'));
    expectOnly(diags, 'a.yaml:1:1', /expected a checklist: a YAML mapping with id, title and steps/);
  });

  describe('parameters of the wrong type', () => {
    const withParam = (...def: string[]) =>
      yaml('id: a', 'title: A', 'params:', ...def, 'steps:', '  - id: x', '    title: X', '    kind: confirm');

    it('default: abc for type: integer', () => {
      const diags = refused(withParam('  count:', '    type: integer', '    default: abc'));
      expectOnly(diags, 'a.yaml:6:14', /parameter 'count': default is of the wrong type: expects an integer, got "abc"/);
    });

    it('default: 1.5 for type: integer', () => {
      const diags = refused(withParam('  count:', '    type: integer', '    default: 1.5'));
      expectOnly(diags, 'a.yaml:6:14', /parameter 'count': default is of the wrong type: expects an integer, got 1\.5/);
    });

    it('default: 1.2 for type: semver (a YAML number, and not a full version)', () => {
      const diags = refused(withParam('  version:', '    type: semver', '    default: 1.2'));
      expectOnly(
        diags,
        'a.yaml:6:14',
        /parameter 'version': default is of the wrong type: expects a semantic version like 2\.3\.1, got 1\.2/,
      );
    });

    it('default: maybe for type: boolean', () => {
      const diags = refused(withParam('  dry:', '    type: boolean', '    default: maybe'));
      expectOnly(diags, 'a.yaml:6:14', /parameter 'dry': default is of the wrong type: expects a boolean \(true or false\), got "maybe"/);
    });

    it('an enum default outside its choices', () => {
      const diags = refused(withParam('  env:', '    type: enum', '    choices: [staging, production]', '    default: prod'));
      expectOnly(diags, 'a.yaml:7:14', /parameter 'env': default is of the wrong type: expects one of staging, production, got "prod"/);
    });

    it('an enum without choices', () => {
      const diags = refused(withParam('  env:', '    type: enum'));
      expectOnly(diags, 'a.yaml:5:5', /parameter 'env': type enum needs choices/);
    });

    it('an unknown parameter type', () => {
      const diags = refused(withParam('  n:', '    type: number'));
      expectOnly(diags, 'a.yaml:5:11', /parameter 'n': type: .*"string".*"semver".*"boolean".*"integer".*"enum"/);
    });

    it('a pattern that is not a regular expression', () => {
      const diags = refused(withParam('  issue:', '    pattern: "([a-z"'));
      expectOnly(diags, 'a.yaml:5:14', /parameter 'issue': pattern is not a valid regular expression/);
    });

    it('a default that does not match the pattern', () => {
      const diags = refused(withParam('  issue:', '    pattern: "^[A-Z]+-[0-9]+$"', '    default: nope'));
      expectOnly(
        diags,
        'a.yaml:6:14',
        /parameter 'issue': default is of the wrong type: expects a value matching \^\[A-Z\]\+-\[0-9\]\+\$, got "nope"/,
      );
    });

    it('a parameter name that is not a plain name', () => {
      const diags = refused(withParam('  Version:', '    type: semver'));
      expectOnly(diags, 'a.yaml:4:3', /params: 'Version': expected a parameter name like version or issue_id/);
    });
  });

  describe('when: and unless:', () => {
    const cond = (...stepLines: string[]) =>
      yaml(
        'id: a',
        'title: A',
        'params:',
        '  dry:',
        '    type: boolean',
        '    default: false',
        'steps:',
        '  - id: x',
        '    title: X',
        '    kind: confirm',
        ...stepLines, // line 11 onwards
      );

    it('a when: value of the wrong type: at the value', () => {
      const diags = refused(cond('    when: {dry: maybe}'));
      expectOnly(diags, 'a.yaml:11:17', /step 'x': when: parameter 'dry' expects a boolean \(true or false\), got "maybe"/);
    });

    it('a wrong value inside a list of values', () => {
      const diags = refused(cond('    unless:', '      dry: [true, perhaps]'));
      expectOnly(diags, 'a.yaml:12:12', /step 'x': unless: parameter 'dry' expects a boolean \(true or false\), got "perhaps"/);
    });

    it('when: naming an unknown parameter: at the name', () => {
      const diags = refused(cond('    when:', '      environment: production'));
      expectOnly(diags, 'a.yaml:12:7', /step 'x': when refers to unknown parameter 'environment'/);
    });

    it('unless: naming an unknown parameter: at the name', () => {
      const diags = refused(cond('    unless: {dyr: true}'));
      expectOnly(diags, 'a.yaml:11:14', /step 'x': unless refers to unknown parameter 'dyr'/);
    });
  });

  describe('${param} references in a run step', () => {
    const withVersion = (...stepLines: string[]) =>
      yaml(
        'id: a',
        'title: A',
        'params:',
        '  version:',
        '    type: semver',
        'steps:',
        '  - id: x',
        '    title: X',
        '    kind: run',
        ...stepLines,
      );

    it('in an argv list, naming no parameter: at that argument', () => {
      //        run: [git, tag, "v${version}", "${verison}"]   ← line 10; the 4th element starts at column 36
      const diags = refused(withVersion('    run: [git, tag, "v${version}", "${verison}"]'));
      expectOnly(diags, 'a.yaml:10:36', /step 'x': '\$\{verison\}' names no parameter of this checklist/);
    });

    it('in an argv list written as a block sequence', () => {
      const diags = refused(withVersion('    run:', '      - echo', '      - "${nope}"'));
      expectOnly(diags, 'a.yaml:12:9', /step 'x': '\$\{nope\}' names no parameter/);
    });

    it('in env and cwd', () => {
      const diags = refused(withVersion('    run: make', '    cwd: "build/${dir}"', '    env:', '      TAG: "${tag}"'));
      expect(diags).toHaveLength(2);
      expectAt(diags[0], 'a.yaml:11:10', /'\$\{dir\}' names no parameter/);
      expectAt(diags[1], 'a.yaml:13:12', /'\$\{tag\}' names no parameter/);
    });

    it('an env variable name that is not one: at the name', () => {
      const diags = refused(withVersion('    run: make', '    env:', '      bad-name: x'));
      expectOnly(diags, 'a.yaml:12:7', /step 'x': env: 'bad-name': expected an environment variable name/);
    });

    it('a shell string is not checked: it reads $COCKPIT_PARAM_* from the environment, not ${param}', () => {
      const r = parseChecklist(source('a', withVersion('    run: echo "${HOME}"')), STEP_KINDS);
      expect(r.diagnostics).toEqual([]);
    });
  });

  it('reports several problems in one pass, sorted by position', () => {
    const diags = refused(
      yaml(
        'id: a',
        'title: A',
        'steps:',
        '  - id: x',
        '    title: X',
        '    kind: run',
        '    run: make',
        '    tiemout: 5m',
        '  - id: y',
        '    kind: confirm',
      ),
    );
    expect(diags.map((d) => d.split(': ')[0])).toEqual(['a.yaml:8:5', 'a.yaml:9:5']);
  });
});

describe('loadBundle: includes', () => {
  const include = (id: string, use: string, ...extra: string[]) =>
    yaml(`id: ${id}`, `title: ${id}`, 'steps:', '  - id: inc', '    title: Include', '    kind: checklist', `    use: ${use}`, ...extra);
  //                                                                                                       line 7, value at column 10

  const child = yaml(
    'id: child',
    'title: Child',
    'params:',
    '  version:',
    '    type: semver',
    '    required: true',
    '  phase:',
    '    type: enum',
    '    choices: [pre, post]',
    '    default: pre',
    '  dry:',
    '    type: boolean',
    '    default: false',
    'steps:',
    '  - id: s',
    '    title: S',
    '    kind: confirm',
  );

  it('use: of a checklist that does not exist: at the use value, saying where it looked', () => {
    const diags = refusedBundle('a', { a: include('a', 'nope') });
    expectOnly(diags, 'a.yaml:7:10', /step 'inc': checklist 'nope' does not exist \(looked in test checklists\)/);
  });

  it('a cycle a → b → a: at the include that closes it, in the file that has it', () => {
    const diags = refusedBundle('a', { a: include('a', 'b'), b: include('b', 'a') });
    expectOnly(diags, 'b.yaml:7:10', /step 'inc': cycle of includes: a → b → a/);
  });

  it('a self-include', () => {
    const diags = refusedBundle('a', { a: include('a', 'a') });
    expectOnly(diags, 'a.yaml:7:10', /step 'inc': cycle of includes: a → a/);
  });

  it('a cycle between two checklists both included from the root', () => {
    const root = yaml(
      'id: a',
      'title: a',
      'steps:',
      '  - id: one',
      '    title: One',
      '    kind: checklist',
      '    use: b',
      '  - id: two',
      '    title: Two',
      '    kind: checklist',
      '    use: c',
    );
    const diags = refusedBundle('a', { a: root, b: include('b', 'c'), c: include('c', 'b') });
    expectAt(diags[0], 'c.yaml:7:10', /cycle of includes: b → c → b/);
    expect(diags.some((d) => /^a\.yaml:11:10: step 'two': cycle of includes: c → b → c$/.test(d))).toBe(true);
  });

  it('the same checklist included twice without a cycle (a diamond) is fine', () => {
    const leaf = yaml('id: c', 'title: c', 'steps:', '  - id: s', '    title: S', '    kind: confirm');
    const root = yaml(
      'id: a',
      'title: a',
      'steps:',
      '  - id: one',
      '    title: One',
      '    kind: checklist',
      '    use: b',
      '  - id: two',
      '    title: Two',
      '    kind: checklist',
      '    use: c',
    );
    const r = loadBundle(source('a', root), memoryResolver({ b: include('b', 'c'), c: leaf }), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
    expect([...r.bundle!.byId.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('an included checklist with a required parameter nobody passes: at the use, with how to fix it', () => {
    const diags = refusedBundle('a', { a: include('a', 'child'), child });
    expectOnly(
      diags,
      'a.yaml:7:10',
      /checklist 'child' needs parameter 'version': pass it with 'with: \{version: …\}' or give 'a' a parameter of that name/,
    );
  });

  it('the includer having a parameter of the same name is enough', () => {
    const a = yaml(
      'id: a',
      'title: a',
      'params:',
      '  version: {type: semver, required: true}',
      'steps:',
      '  - id: inc',
      '    title: I',
      '    kind: checklist',
      '    use: child',
    );
    const r = loadBundle(source('a', a), memoryResolver({ child }), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
  });

  it('a with: literal outside the enum choices of the included parameter: at the value', () => {
    const diags = refusedBundle('a', { a: include('a', 'child', '    with:', '      version: 1.2.3', '      phase: during'), child });
    expectOnly(
      diags,
      'a.yaml:10:14',
      /step 'inc': a parameter of the wrong type for 'child': parameter 'phase' expects one of pre, post, got "during"/,
    );
  });

  it('a with: literal that is not a boolean for a boolean parameter', () => {
    const diags = refusedBundle('a', { a: include('a', 'child', '    with: {version: 1.2.3, dry: maybe}'), child });
    expectOnly(
      diags,
      'a.yaml:8:33',
      /a parameter of the wrong type for 'child': parameter 'dry' expects a boolean \(true or false\), got "maybe"/,
    );
  });

  it('a with: literal that is not a version for a semver parameter', () => {
    const diags = refusedBundle('a', { a: include('a', 'child', '    with:', '      version: latest'), child });
    expectOnly(diags, 'a.yaml:9:16', /parameter 'version' expects a semantic version like 2\.3\.1, got "latest"/);
  });

  it('with: naming a parameter the included checklist does not take: at the key', () => {
    const diags = refusedBundle('a', { a: include('a', 'child', '    with:', '      version: 1.2.3', '      phse: pre'), child });
    expectOnly(diags, 'a.yaml:10:7', /checklist 'child' has no parameter 'phse' \(it takes: version, phase, dry\)/);
  });

  it('a with: template naming no parameter of the includer', () => {
    const diags = refusedBundle('a', { a: include('a', 'child', '    with:', '      version: "${ver}"'), child });
    expectOnly(diags, 'a.yaml:9:16', /'\$\{ver\}' refers to unknown parameter 'ver' of 'a'/);
  });

  it('a with: template passing a parameter of another type', () => {
    const a = yaml(
      'id: a',
      'title: a',
      'params:',
      '  n: {type: integer}',
      'steps:',
      '  - id: inc',
      '    title: I',
      '    kind: checklist',
      '    use: child',
      '    with:',
      '      version: "${n}"',
    );
    const diags = refusedBundle('a', { a, child });
    expectOnly(diags, 'a.yaml:11:16', /parameter 'version' of 'child' is semver, but 'n' is integer/);
  });

  it('errors inside an included file carry that file’s name and position', () => {
    const broken = child.replace('    kind: confirm\n', '    kind: confirm\n    promt: Done?\n');
    const diags = refusedBundle('a', { a: include('a', 'child', '    with: {version: 1.2.3}'), child: broken });
    expectOnly(diags, 'child.yaml:18:5', /unknown key 'promt' in step 's' \(did you mean 'prompt'\?\)/);
  });

  it('a YAML syntax error in a file two includes deep carries that file’s name', () => {
    const leaf = yaml('id: leaf', 'title: Leaf', 'steps:', '  - id: s', '\ttitle: S', '    kind: confirm');
    const diags = refusedBundle('a', { a: include('a', 'mid'), mid: include('mid', 'leaf'), leaf });
    expectAt(diags[0], 'leaf.yaml:5:1', /^invalid YAML: /);
    expect(diags.every((d) => d.startsWith('leaf.yaml:'))).toBe(true);
  });

  it('the root file is refused on its own errors with its own name', () => {
    const r = loadBundle(source('a', oneStep('deploy-magic'), 'repo/checklists/a.yaml'), memoryResolver({}), STEP_KINDS);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "repo/checklists/a.yaml:6:11: step 'only': unknown step kind 'deploy-magic'; expected one of: confirm, run, checklist, git.branch, git.merge, git.tag, git.push, git.remote, bump, notes, freeze, migrate, watch, backup, restore, smoke, approve, build, deploy, switch, rollback, verify, notify, publish",
    ]);
  });
});

describe('valid checklists', () => {
  const valid = {
    root: yaml(
      'id: root',
      'title: Root',
      'description: Everything at once',
      'params:',
      '  version:',
      '    type: semver',
      '    required: true',
      '    description: The version',
      '  environment:',
      '    type: enum',
      '    choices: [staging, production]',
      '    default: staging',
      '  dry:',
      '    type: boolean',
      '    default: false',
      '  retries:',
      '    type: integer',
      '    default: 2',
      '  issue:',
      '    type: string',
      '    pattern: "^[A-Z]+-[0-9]+$"',
      'steps:',
      '  - id: ask',
      '    title: Ask',
      '    kind: confirm',
      '    prompt: Ready?',
      '    help: Look around first.',
      '  - id: shell',
      '    title: Shell',
      '    kind: run',
      '    run: |',
      '      echo "$COCKPIT_PARAM_VERSION"',
      '    timeout: 1h30m',
      '    when: {environment: production}',
      '  - id: argv',
      '    title: Argv',
      '    kind: run',
      '    run: [git, tag, "v${version}"]',
      '    probe: [git, rev-parse, "v${version}"]',
      '    env: {TARGET: "${environment}", RETRIES: 3}',
      '    cwd: "."',
      '    timeout: 90',
      '    unless: {dry: true}',
      '  - id: watch',
      '    title: Watch',
      '    kind: checklist',
      '    use: watch',
      '    with: {env: "${environment}", label: "v${version}"}',
      '    when: {environment: [staging, production]}',
    ),
    watch: yaml(
      'id: watch',
      'title: Watch',
      'params:',
      '  version: {type: semver, required: true}',
      '  env: {type: enum, choices: [staging, production], required: true}',
      '  label: {type: string}',
      'steps:',
      '  - id: look',
      '    title: Look',
      '    kind: confirm',
      '  - id: leaf',
      '    title: Leaf',
      '    kind: checklist',
      '    use: leaf',
    ),
    leaf: yaml(
      'id: leaf',
      'title: Leaf',
      'params:',
      '  version: {type: semver}',
      'steps:',
      '  - id: s',
      '    title: S',
      '    kind: confirm',
    ),
  };

  it('params, when/unless, run (string and argv), confirm and a nested include: no diagnostics', () => {
    const r = loadBundle(source('root', valid.root), memoryResolver(valid), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
    const bundle = r.bundle!;
    expect([...bundle.byId.keys()]).toEqual(['root', 'watch', 'leaf']);
    expect(bundle.root.checklist.params.environment).toMatchObject({ type: 'enum', default: 'staging' });
    expect(bundle.root.checklist.steps.map((s) => s.kind)).toEqual(['confirm', 'run', 'run', 'checklist']);
    expect(Object.keys(bundle.sources).sort()).toEqual(['leaf', 'root', 'watch']);
    expect(bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a parameter type defaults to string', () => {
    const r = parseChecklist(
      source('a', yaml('id: a', 'title: A', 'params:', '  name: {}', 'steps:', '  - id: x', '    title: X', '    kind: confirm')),
      STEP_KINDS,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.parsed!.checklist.params.name.type).toBe('string');
  });

  it('when:/unless: values are kept as the coerced parameter values, so they compare equal at run time', () => {
    const text = yaml(
      'id: a',
      'title: A',
      'params:',
      '  dry: {type: boolean, default: false}',
      '  version: {type: semver}',
      'steps:',
      '  - id: x',
      '    title: X',
      '    kind: confirm',
      '    when: {dry: yes, version: [v1.2.3, 2.0.0]}',
    );
    const r = parseChecklist(source('a', text), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
    const when = r.parsed!.checklist.steps[0].when!;
    expect(when).toEqual({ dry: true, version: ['1.2.3', '2.0.0'] });
    expect(evaluateConditions(when, undefined, { dry: true, version: '1.2.3' }).pass).toBe(true);
  });

  describe('the default checklists in checklists/', () => {
    const files = readdirSync(CHECKLIST_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const folder: ChecklistResolver = {
      find: (id) => {
        const file = path.join(CHECKLIST_DIR, `${id}.yaml`);
        return existsSync(file) ? { id, file, text: readFileSync(file, 'utf8') } : null;
      },
      describe: () => CHECKLIST_DIR,
    };

    it('are the ten expected ones', () => {
      expect(files).toEqual([
        'communication.yaml',
        'deploy-production.yaml',
        'deploy-staging.yaml',
        'hotfix.yaml',
        'migration.yaml',
        'post-deploy-watch.yaml',
        'release.yaml',
        'rollback-code.yaml',
        'rollback-db.yaml',
        'watch.yaml',
      ]);
    });

    it.each(files)('%s loads with everything it includes, with no diagnostics', (file) => {
      const id = file.replace(/\.yaml$/, '');
      const r = loadBundle(folder.find(id)!, folder, STEP_KINDS);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(r.bundle!.root.checklist.id).toBe(id);
    });
  });
});

describe('coerceParam', () => {
  const semverDef: ParamDef = { type: 'semver' };

  it('semver: accepts a leading v and takes it off; trims; keeps pre-release and build metadata', () => {
    expect(coerceParam('version', semverDef, 'v2.3.1')).toEqual({ ok: true, value: '2.3.1' });
    expect(coerceParam('version', semverDef, ' 2.3.1 ')).toEqual({ ok: true, value: '2.3.1' });
    expect(coerceParam('version', semverDef, '2.3.1-rc.1+build.5')).toEqual({ ok: true, value: '2.3.1-rc.1+build.5' });
  });

  it('semver: refuses partial versions, numbers and words', () => {
    for (const bad of ['2.3', 1.2, 2, 'latest', 'vv2.3.1', 'v', '']) {
      const r = coerceParam('version', semverDef, bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toBe(`parameter 'version' expects a semantic version like 2.3.1, got ${JSON.stringify(bad)}`);
    }
    expect(coerceParam('version', semverDef, true).ok).toBe(false);
  });

  it('boolean: true/false and the words yes/no/on/off/1/0, any case', () => {
    const def: ParamDef = { type: 'boolean' };
    for (const t of [true, 'true', 'yes', '1', 'on', 'TRUE', 'Yes']) expect(coerceParam('dry', def, t)).toEqual({ ok: true, value: true });
    for (const f of [false, 'false', 'no', '0', 'off', 'False']) expect(coerceParam('dry', def, f)).toEqual({ ok: true, value: false });
    for (const bad of ['maybe', 1, 'truthy']) {
      expect(coerceParam('dry', def, bad)).toEqual({
        ok: false,
        message: `parameter 'dry' expects a boolean (true or false), got ${JSON.stringify(bad)}`,
      });
    }
  });

  it('integer: numbers and digit strings; not fractions or words', () => {
    const def: ParamDef = { type: 'integer' };
    expect(coerceParam('n', def, 3)).toEqual({ ok: true, value: 3 });
    expect(coerceParam('n', def, '42')).toEqual({ ok: true, value: 42 });
    expect(coerceParam('n', def, ' -7 ')).toEqual({ ok: true, value: -7 });
    for (const bad of [1.5, '1.5', 'abc', '1e3', '', true, 2 ** 60]) {
      expect(coerceParam('n', def, bad)).toEqual({ ok: false, message: `parameter 'n' expects an integer, got ${JSON.stringify(bad)}` });
    }
  });

  it('enum: a choice, returned as declared (also numeric choices given as strings)', () => {
    const def: ParamDef = { type: 'enum', choices: ['staging', 'production'] };
    expect(coerceParam('env', def, 'production')).toEqual({ ok: true, value: 'production' });
    expect(coerceParam('env', def, 'prod')).toEqual({
      ok: false,
      message: `parameter 'env' expects one of staging, production, got "prod"`,
    });
    expect(coerceParam('shard', { type: 'enum', choices: [1, 2] }, '2')).toEqual({ ok: true, value: 2 });
  });

  it('string: strings and numbers (as text); pattern applies', () => {
    expect(coerceParam('s', { type: 'string' }, 12)).toEqual({ ok: true, value: '12' });
    expect(coerceParam('s', { type: 'string' }, true).ok).toBe(false);
    const def: ParamDef = { type: 'string', pattern: '^[A-Z]+-[0-9]+$' };
    expect(coerceParam('issue', def, 'PROP-123')).toEqual({ ok: true, value: 'PROP-123' });
    expect(coerceParam('issue', def, 'prop-123; rm -rf /')).toEqual({
      ok: false,
      message: `parameter 'issue' expects a value matching ^[A-Z]+-[0-9]+$, got "prop-123; rm -rf /"`,
    });
  });

  it('an invalid pattern is reported, not thrown', () => {
    expect(coerceParam('x', { type: 'string', pattern: '([' }, 'a')).toEqual({
      ok: false,
      message: "parameter 'x' has an invalid pattern ([",
    });
  });
});

describe('resolveParams', () => {
  const defs: Record<string, ParamDef> = {
    version: { type: 'semver', required: true, description: 'Version being deployed' },
    environment: { type: 'enum', choices: ['staging', 'production'], default: 'staging' },
    dry: { type: 'boolean', default: false },
    retries: { type: 'integer' },
  };

  it('applies defaults and coerces what was given', () => {
    expect(resolveParams(defs, { version: 'v1.4.0', dry: 'yes', retries: '3' })).toEqual({
      values: { version: '1.4.0', environment: 'staging', dry: true, retries: 3 },
      errors: [],
    });
  });

  it('leaves an optional parameter without default unset', () => {
    const r = resolveParams(defs, { version: '1.0.0' });
    expect(r.errors).toEqual([]);
    expect('retries' in r.values).toBe(false);
  });

  it('refuses an unknown parameter, listing the known ones', () => {
    expect(resolveParams(defs, { version: '1.0.0', verison: '1.0.0' }).errors).toEqual([
      "unknown parameter 'verison' (this checklist takes: version, environment, dry, retries)",
    ]);
    expect(resolveParams({}, { x: 1 }).errors).toEqual(["unknown parameter 'x' (this checklist takes none)"]);
  });

  it('refuses a missing required parameter, with its description and how to pass it', () => {
    expect(resolveParams(defs, {}).errors).toEqual(["missing required parameter 'version' (Version being deployed): pass -p version=…"]);
  });

  it('reports values of the wrong type', () => {
    expect(resolveParams(defs, { version: '1.0', environment: 'qa' }).errors).toEqual([
      `parameter 'version' expects a semantic version like 2.3.1, got "1.0"`,
      `parameter 'environment' expects one of staging, production, got "qa"`,
    ]);
  });
});

describe('evaluateConditions', () => {
  const params = { environment: 'production', dry: false, retries: 3 };

  it('passes with no conditions', () => {
    expect(evaluateConditions(undefined, undefined, params)).toEqual({ pass: true, reason: '' });
  });

  it('when: every key must match; a list means any of', () => {
    expect(evaluateConditions({ environment: 'production' }, undefined, params).pass).toBe(true);
    expect(evaluateConditions({ environment: ['staging', 'production'], dry: false }, undefined, params).pass).toBe(true);
    expect(evaluateConditions({ environment: 'staging' }, undefined, params)).toEqual({
      pass: false,
      reason: 'when: environment is "production", not "staging"',
    });
    expect(evaluateConditions({ environment: 'production', dry: true }, undefined, params)).toEqual({
      pass: false,
      reason: 'when: dry is false, not true',
    });
  });

  it('unless: skips when it matches, saying why', () => {
    expect(evaluateConditions(undefined, { dry: false }, params)).toEqual({ pass: false, reason: 'unless: dry is false' });
    expect(evaluateConditions(undefined, { environment: ['staging', 'production'] }, params)).toEqual({
      pass: false,
      reason: 'unless: environment is "staging" or "production"',
    });
    expect(evaluateConditions(undefined, { dry: true }, params).pass).toBe(true);
  });

  it('an unset parameter matches nothing', () => {
    expect(evaluateConditions({ issue: 'X-1' }, undefined, params)).toEqual({ pass: false, reason: 'when: issue is unset, not "X-1"' });
  });

  it('numbers compare by value', () => {
    expect(evaluateConditions({ retries: 3 }, undefined, params).pass).toBe(true);
  });
});

describe('interpolate and templateRefs', () => {
  it('fills ${name} from the parameters, empty when unset', () => {
    expect(interpolate('v${version}-${environment}', { version: '1.2.3', environment: 'staging' })).toBe('v1.2.3-staging');
    expect(interpolate('x${missing}y', {})).toBe('xy');
    expect(interpolate('${n}/${b}', { n: 3, b: false })).toBe('3/false');
  });

  it('leaves $name, $(…) and ${…} with other syntax alone', () => {
    expect(interpolate('$version $(whoami) ${1bad} ${a b}', { version: 'x' })).toBe('$version $(whoami) ${1bad} ${a b}');
  });

  it('does not re-expand a value that looks like a template', () => {
    expect(interpolate('${a}', { a: '${b}', b: 'no' })).toBe('${b}');
  });

  it('templateRefs lists the names', () => {
    expect(templateRefs('git tag v${version} ${issue_id} ${version}')).toEqual(['version', 'issue_id', 'version']);
  });
});

describe('buildPlan', () => {
  const sources = {
    deploy: yaml(
      'id: deploy',
      'title: Deploy',
      'params:',
      '  version: {type: semver, required: true}',
      '  environment: {type: enum, choices: [staging, production], default: staging}',
      '  ticket: {type: string}',
      'steps:',
      '  - id: start',
      '    title: Start',
      '    kind: confirm',
      '    prompt: Go?',
      '  - id: watch',
      '    title: Watch',
      '    kind: checklist',
      '    use: watch',
      '    when: {environment: production}',
      '    with:',
      '      env: "${environment}"',
      '      label: "v${version}-${environment}"',
      '      retries: "5"',
      '      ticket: "${ticket}"',
      '  - id: done',
      '    title: Done',
      '    kind: run',
      '    run: [echo, "${version}"]',
      '    timeout: 5m',
    ),
    watch: yaml(
      'id: watch',
      'title: Watch',
      'params:',
      '  version: {type: semver, required: true}',
      '  env: {type: enum, choices: [staging, production]}',
      '  label: {type: string}',
      '  retries: {type: integer, default: 1}',
      '  ticket: {type: string, default: none}',
      'steps:',
      '  - id: look',
      '    title: Look',
      '    kind: confirm',
      '  - id: notes',
      '    title: Notes',
      '    kind: checklist',
      '    use: notes',
      '    with: {audience: internal}',
    ),
    notes: yaml(
      'id: notes',
      'title: Notes',
      'params:',
      '  version: {type: semver}',
      '  audience: {type: enum, choices: [internal, public]}',
      'steps:',
      '  - id: write',
      '    title: Write',
      '    kind: confirm',
    ),
  };

  const load = () => {
    const r = loadBundle(source('deploy', sources.deploy), memoryResolver(sources), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
    return r.bundle!;
  };

  it('flattens includes in place: paths include-id/step-id, depth, parent, scope', () => {
    const { plan, errors } = buildPlan(load(), { version: '2.3.1', environment: 'production' });
    expect(errors).toEqual([]);
    expect(plan.map((n) => [n.path, n.depth, n.parent, n.scope, n.checklist])).toEqual([
      ['start', 0, null, '', 'deploy'],
      ['watch', 0, null, '', 'deploy'],
      ['watch/look', 1, 'watch', 'watch', 'watch'],
      ['watch/notes', 1, 'watch', 'watch', 'watch'],
      ['watch/notes/write', 2, 'watch/notes', 'watch/notes', 'notes'],
      ['done', 0, null, '', 'deploy'],
    ]);
  });

  it('keeps the kind-specific fields in spec and the common ones outside it', () => {
    const { plan } = buildPlan(load(), { version: '2.3.1', environment: 'production' });
    const byPath = Object.fromEntries(plan.map((n) => [n.path, n]));
    expect(byPath.start.spec).toEqual({ prompt: 'Go?' });
    expect(byPath.done.spec).toEqual({ run: ['echo', '${version}'], timeout: '5m' });
    expect(byPath.watch.when).toEqual({ environment: 'production' });
    expect(byPath.watch.spec.use).toBe('watch');
  });

  it('passes parameters through by name and via with: (templates and literals, coerced)', () => {
    const { scopes, errors } = buildPlan(load(), { version: '2.3.1', environment: 'production', ticket: 'OPS-7' });
    expect(errors).toEqual([]);
    expect(scopes['']).toEqual({ checklist: 'deploy', params: { version: '2.3.1', environment: 'production', ticket: 'OPS-7' } });
    expect(scopes.watch).toEqual({
      checklist: 'watch',
      params: { version: '2.3.1', env: 'production', label: 'v2.3.1-production', retries: 5, ticket: 'OPS-7' },
    });
    expect(scopes['watch/notes']).toEqual({ checklist: 'notes', params: { version: '2.3.1', audience: 'internal' } });
  });

  it('a with: "${param}" naming an unset parameter leaves the included default in place', () => {
    const { scopes } = buildPlan(load(), { version: '2.3.1', environment: 'staging' });
    expect(scopes.watch.params.ticket).toBe('none');
    expect(scopes.watch.params.env).toBe('staging');
  });

  it('reports a required parameter of an include that is unset at run time', () => {
    const a = yaml(
      'id: a',
      'title: A',
      'params:',
      '  version: {type: semver}',
      'steps:',
      '  - id: inc',
      '    title: I',
      '    kind: checklist',
      '    use: watch',
    );
    const r = loadBundle(source('a', a), memoryResolver(sources), STEP_KINDS);
    expect(r.diagnostics).toEqual([]);
    const { errors } = buildPlan(r.bundle!, {});
    expect(errors).toEqual(["step 'inc' (includes 'watch'): missing required parameter 'version': pass -p version=…"]);
  });
});

describe('names that Object.prototype already has', () => {
  it('-p toString=… and -p constructor=… are unknown parameters, not silently taken', () => {
    const r = resolveParams({ version: { type: 'semver' } }, Object.assign(Object.create(null), { toString: 'x', constructor: 'y' }));
    expect(r.errors).toEqual([
      "unknown parameter 'toString' (this checklist takes: version)",
      "unknown parameter 'constructor' (this checklist takes: version)",
    ]);
  });

  it('a when: on `constructor` names no parameter', () => {
    const text = 'id: a\ntitle: A\nsteps:\n  - id: x\n    title: X\n    kind: confirm\n    when: {constructor: yes}\n';
    const r = parseChecklist({ id: 'a', file: 'a.yaml', text }, STEP_KINDS);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(["a.yaml:7:12: step 'x': when refers to unknown parameter 'constructor'"]);
  });
});

describe('the deploy step kinds as written', () => {
  it('loads them with templates, and says where a written-out environment, version or colour is wrong', () => {
    const good = yaml(
      'id: a',
      'title: A',
      'params:',
      '  version: {type: semver, required: true}',
      '  environment: {type: enum, choices: [staging, production]}',
      'steps:',
      '  - {id: build, title: Build, kind: build, env: "${environment}", version: "${version}"}',
      '  - {id: deploy, title: Deploy, kind: deploy, env: production, version: "${version}", colour: green}',
      '  - {id: smoke-new, title: Smoke, kind: smoke, env: production, target: colour}',
      '  - {id: switch, title: Switch, kind: switch, env: production}',
      '  - {id: rollback, title: Roll back, kind: rollback, env: production}',
    );
    expect(parseChecklist(source('a', good), STEP_KINDS).diagnostics).toEqual([]);
    expectOnly(
      refused(oneStep('deploy', '    env: prod uction', '    version: 1.5.0')),
      'a.yaml:7:10',
      /'prod uction' is not an environment name/,
    );
    expectOnly(refused(oneStep('deploy', '    env: production', '    version: "1.5"')), 'a.yaml:8:14', /'1.5' is not a semantic version/);
    expectOnly(
      refused(oneStep('switch', '    env: production', '    colour: purple')),
      'a.yaml:8:13',
      /'purple' is not a colour \(expected blue, green\)/,
    );
    expectOnly(refused(oneStep('rollback', '    env: production', '    version: "${v}"')), 'a.yaml:8:14', /'\$\{v\}' names no parameter/);
    expect(refused(oneStep('smoke', '    target: live'))).toEqual([
      "a.yaml:4:5: step 'only': expected a url, or an env of deploy: whose URL the checks use",
      "a.yaml:4:5: step 'only': expected checks (or an env, whose deploy.<env>.smoke are used)",
      "a.yaml:7:13: step 'only': target applies to a smoke step with an env",
    ]);
  });
});
