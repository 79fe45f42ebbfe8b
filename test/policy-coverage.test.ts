/**
 * The default checklists must encode the whole release policy.
 *
 * Every content line of docs/policy/release-management.md (the policy the defaults encode, kept in this repository) must be quoted,
 * after normalisation, as a line of the `policy:` text of at least one step of a default
 * checklist; and those `policy:` texts must quote nothing but policy lines, so quotes cannot drift.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadBundle } from '../src/core/checklist/bundle.js';
import { formatDiagnostic } from '../src/core/checklist/types.js';
import { STEP_KINDS } from '../src/steps/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const checklistDir = path.join(repoRoot, 'checklists');
const policyPath = path.join(repoRoot, 'docs', 'policy', 'release-management.md');

const CHECKLIST_IDS = [
  'release',
  'hotfix',
  'deploy-staging',
  'deploy-production',
  'migration',
  'rollback-code',
  'rollback-db',
  'post-deploy-watch',
  'communication',
  'watch',
] as const;

const SLUG = /^[a-z0-9][a-z0-9-]*$/;

interface ParamDoc {
  type?: string;
  required?: boolean;
  default?: unknown;
  choices?: unknown[];
}

interface StepDoc {
  id?: unknown;
  title?: unknown;
  kind?: unknown;
  help?: unknown;
  policy?: unknown;
  use?: unknown;
  with?: Record<string, unknown>;
  when?: Record<string, unknown>;
  unless?: Record<string, unknown>;
}

interface ChecklistDoc {
  id?: unknown;
  params?: Record<string, ParamDoc>;
  steps?: StepDoc[];
}

interface LoadedChecklist {
  file: string;
  doc: ChecklistDoc;
  steps: StepDoc[];
}

/** Normalise one line the same way on the policy side and on the checklist side. */
function normalise(line: string): string {
  return line
    .replace(/^\s+/, '')
    .replace(/^(?:[-*+]|\d+\.|[a-z]\.)\s+/, '')
    .replace(/\*\*/g, '')
    .replace(/`/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Content lines of the policy: every non-blank line except markdown headings, code fences and the
 * intro sentence right under the H1. Lines inside code fences are content (they are commands the
 * checklists must quote), including their `# comment` lines, which are not headings there.
 */
function policyContentLines(markdown: string): string[] {
  const lines: string[] = [];
  let inFence = false;
  let afterH1 = false; // between the H1 and the first content line or heading after it
  for (const raw of markdown.split(/\r?\n/)) {
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('```')) {
      inFence = !inFence;
      continue;
    }
    if (!inFence && /^ {0,3}#{1,6}(?:\s|$)/.test(raw)) {
      afterH1 = /^ {0,3}#(?:\s|$)/.test(raw);
      continue;
    }
    if (afterH1) {
      afterH1 = false; // the intro sentence ("This document outlines…")
      continue;
    }
    lines.push(normalise(raw));
  }
  return lines;
}

function loadChecklists(): LoadedChecklist[] {
  return readdirSync(checklistDir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((file) => {
      const doc = (parse(readFileSync(path.join(checklistDir, file), 'utf8')) ?? {}) as ChecklistDoc;
      return { file, doc, steps: Array.isArray(doc.steps) ? doc.steps : [] };
    });
}

function stepPolicyLines(step: StepDoc): string[] {
  if (typeof step.policy !== 'string') return [];
  return step.policy
    .split(/\r?\n/)
    .map(normalise)
    .filter((l) => l !== '');
}

const policyText = readFileSync(policyPath, 'utf8');
const policyLines = policyContentLines(policyText);
const checklists = loadChecklists();

describe('default checklists cover the release policy', () => {
  it('reads a non-trivial policy and all ten default checklists', () => {
    expect(policyLines.length).toBeGreaterThan(100);
    expect(policyLines).toContain('Code Rollback: < 15 minutes');
    expect(policyLines).toContain('python migrate.py upgrade --sql # Review SQL');
    expect(policyLines).toContain('# First step of deployment');
    expect(policyLines.some((l) => l.startsWith('This document outlines'))).toBe(false);
    expect(checklists.map((c) => c.file).sort()).toEqual(CHECKLIST_IDS.map((id) => `${id}.yaml`).sort());
    for (const { file, doc } of checklists) {
      expect(doc.id, file).toBe(file.replace(/\.ya?ml$/, ''));
    }
  });

  it('resolves every checklist\'s section references (`policy: "Section > Subsection; …"`) to headings of the policy', () => {
    // The headings, as `## Section > ### Subsection` paths.
    const headings = new Set<string>();
    let section = '';
    for (const line of policyText.split(/\r?\n/)) {
      const h2 = /^## (.+)$/.exec(line);
      const h3 = /^### (.+)$/.exec(line);
      if (h2) section = h2[1].trim();
      else if (h3) headings.add(`${section} > ${h3[1].trim()}`);
    }
    expect(headings.size).toBeGreaterThan(20);
    const unresolved: string[] = [];
    let refs = 0;
    for (const { file, doc } of checklists) {
      const policy = (doc as { policy?: unknown }).policy;
      expect(typeof policy, `${file}: a checklist-level policy reference`).toBe('string');
      for (const ref of String(policy)
        .split(';')
        .map((r) => r.trim())) {
        refs++;
        if (!headings.has(ref)) unresolved.push(`${file}: "${ref}"`);
      }
    }
    expect(refs).toBeGreaterThanOrEqual(CHECKLIST_IDS.length);
    expect(unresolved).toEqual([]);
  });

  it('quotes every policy content line in the policy text of some step', () => {
    const quoted = new Set<string>();
    for (const c of checklists) for (const step of c.steps) for (const l of stepPolicyLines(step)) quoted.add(l);
    const missing = policyLines.filter((l) => !quoted.has(l));
    expect(missing, 'policy lines that no step quotes in its `policy:` text').toEqual([]);
  });

  it('quotes only real policy lines in step policy texts (verbatim, no paraphrase)', () => {
    const known = new Set(policyLines);
    const invented: string[] = [];
    for (const c of checklists) {
      for (const step of c.steps) {
        for (const l of stepPolicyLines(step)) {
          if (!known.has(l)) invented.push(`${c.file} ${String(step.id)}: ${l}`);
        }
      }
    }
    expect(invented, 'step `policy:` lines that are not lines of the policy').toEqual([]);
  });

  it('gives every step a help text and a unique slug id', () => {
    const problems: string[] = [];
    for (const c of checklists) {
      if (c.steps.length === 0) problems.push(`${c.file}: no steps`);
      const seen = new Set<string>();
      c.steps.forEach((step, i) => {
        const where = `${c.file} step ${i + 1} (${String(step.id)})`;
        if (typeof step.id !== 'string' || !SLUG.test(step.id)) problems.push(`${where}: id is not a slug`);
        else if (seen.has(step.id)) problems.push(`${where}: duplicate id`);
        else seen.add(step.id);
        if (typeof step.help !== 'string' || step.help.trim() === '') problems.push(`${where}: empty help`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('includes only default checklists, and each loads cleanly through the real loader (includes, cycles, params)', () => {
    const resolver = {
      find: (id: string) => {
        const file = path.join(checklistDir, `${id}.yaml`);
        return (CHECKLIST_IDS as readonly string[]).includes(id) ? { id, file, text: readFileSync(file, 'utf8') } : null;
      },
      describe: () => checklistDir,
    };
    const problems: string[] = [];
    for (const c of checklists) {
      const id = String(c.doc.id);
      const r = loadBundle(resolver.find(id)!, resolver, STEP_KINDS);
      problems.push(...r.diagnostics.map(formatDiagnostic));
      for (const step of c.steps) {
        if (step.kind === 'checklist' && !(CHECKLIST_IDS as readonly string[]).includes(String(step.use))) {
          problems.push(`${c.file} ${String(step.id)}: use "${String(step.use)}" is not one of the default checklists`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
