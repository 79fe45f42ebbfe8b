import { describe, expect, it } from 'vitest';
import type { EventDataMap, EventType, StoredEvent } from '../../src/core/events.js';
import { inertMarkdown } from '../../src/core/markdown.js';
import { mdFence, renderMarkdown } from '../../src/report/timeline.js';
import { planNode } from '../helpers/plan.js';
import { splitFences as split } from '../helpers/markdown.js';

// What command output, commit messages, metric labels or a note could carry into a report.
const ATTACKS = [
  '![tracker](http://evil.example/pixel.png)',
  '[click me](javascript:alert(1))',
  '<img src=x onerror=alert(1)>',
  '<script>alert(document.cookie)</script>',
  '<http://evil.example/autolink>',
  '| a | table | break |',
  '```` four backticks close nothing ````',
];
const ATTACK = ATTACKS.join(' ');

let seq = 0;
function ev<T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T]): StoredEvent {
  seq++;
  return {
    sessionId: 's1',
    seq,
    time: 1_000_000 + seq * 1000,
    type,
    stepId,
    actor: `alice ${ATTACKS[2]}`,
    data,
    prevHash: 'p',
    hash: 'h',
  } as StoredEvent;
}

function session(): StoredEvent[] {
  seq = 0;
  return [
    ev('session.started', null, {
      checklist: { id: 'x', title: `Release ${ATTACKS[3]}`, sha256: 'abc' },
      origin: { file: 'x', byId: true },
      params: { version: '1.2.3', issue: ATTACK },
      environment: null,
      operator: 'alice',
      host: 'h',
      pid: 1,
      mode: 'non-interactive',
      version: '0.0.0',
      plan: [planNode('notes', 'run', { title: `Notes ${ATTACKS[0]}` }), planNode('skipme', 'run')],
      scopes: { '': { checklist: 'x', params: { version: '1.2.3' } } },
    }),
    ev('step.started', 'notes', { attempt: 1 }),
    ev('step.output', 'notes', { stream: 'stdout', text: `${ATTACKS.join('\n')}\nfeat: ${ATTACKS[1]}\n` }),
    ev('step.failed', 'notes', { exitCode: 1, durationMs: 10, reason: `exit 1: ${ATTACK}` }),
    ev('note.added', 'notes', { text: `see ${ATTACK}` }),
    ev('step.skipped', 'skipme', { reason: `because ${ATTACK}`, by: 'operator' }),
  ];
}

describe('Markdown report: text from outside is inert', () => {
  it('no HTML, image, link or autolink forms from command output, reasons, notes, titles, params or actors', () => {
    const md = renderMarkdown(session());
    const { prose } = split(md);
    expect(prose).not.toMatch(/<script/i);
    expect(prose).not.toMatch(/<img/i);
    expect(prose).not.toMatch(/<http/i);
    expect(prose).not.toContain('![');
    expect(prose).not.toContain('](javascript:');
    expect(prose).not.toContain('](http');
    // …and the words are all still there, as text.
    expect(prose).toContain('&lt;script&gt;alert(document.cookie)&lt;/script&gt;');
    expect(prose).toContain('!&#91;tracker&#93;(http://evil.example/pixel.png)');
    expect(prose).toContain('&#91;click me&#93;(javascript:alert(1))');
    // A cell's `|` cannot open a new column: every table row has its header's number of columns.
    for (const row of prose.split('\n').filter((l) => l.startsWith('| 1 |'))) expect(row.split(/(?<!\\)\|/).length).toBe(10);
  });

  it('the last output stays verbatim inside one fence that nothing in it can close', () => {
    const { fences } = split(renderMarkdown(session()));
    expect(fences).toHaveLength(1);
    expect(fences[0]).toEqual([...ATTACKS, `feat: ${ATTACKS[1]}`]);
  });

  it('literal inert Markdown and mdFence', () => {
    expect(inertMarkdown('a\nb *c* _d_ `e` ~f~ & <g>', 'literal')).toBe('a b \\*c\\* \\_d\\_ \\`e\\` \\~f\\~ &amp; &lt;g&gt;');
    expect(mdFence(['x ````` y'])).toEqual(['``````text', 'x ````` y', '``````']);
    expect(mdFence(['plain'])).toEqual(['```text', 'plain', '```']);
  });
});
