import { describe, expect, it } from 'vitest';
import { jsonField, judge, shownUrl } from '../../src/steps/smoke.js';

const check = { name: 'c', method: 'GET' as const, path: '/', status: 200 };
const answer = (status: number, body = '', latencyMs = 5) => ({ ok: true as const, status, body, latencyMs, contentType: '' });
const noAnswer = (kind: 'refused' | 'timeout' | 'reset' | 'dns' | 'aborted' | 'error') => ({
  ok: false as const,
  kind,
  error: kind,
  latencyMs: 1,
});

describe('how a smoke answer is judged', () => {
  it('a gateway or dependency status is inconclusive and retried; another 5xx fails and is retried; a 4xx fails at once', () => {
    for (const s of [502, 503, 504]) expect(judge(check, answer(s), {})).toMatchObject({ verdict: 'inconclusive', retry: true });
    expect(judge(check, answer(500), {})).toMatchObject({ verdict: 'fail', retry: true, reason: 'HTTP 500, expected 200' });
    expect(judge(check, answer(404), {})).toMatchObject({ verdict: 'fail', retry: false });
    // A 503 that is expected (a maintenance page check) passes.
    expect(judge({ ...check, status: 503 }, answer(503), {}).verdict).toBe('pass');
  });

  it('no answer is inconclusive, a refused connection fails (nothing listens), a stop is not retried', () => {
    expect(judge(check, noAnswer('timeout'), {})).toMatchObject({ verdict: 'inconclusive', retry: true });
    expect(judge(check, noAnswer('reset'), {})).toMatchObject({ verdict: 'inconclusive', retry: true });
    expect(judge(check, noAnswer('dns'), {})).toMatchObject({ verdict: 'inconclusive', retry: true });
    expect(judge(check, noAnswer('refused'), {})).toMatchObject({ verdict: 'fail', retry: true });
    expect(judge(check, noAnswer('aborted'), {})).toMatchObject({ verdict: 'inconclusive', retry: false });
  });

  it('JSON fields are compared after the template is filled, a number against its text; a missing field or non-JSON fails', () => {
    const v = { ...check, json: { path: 'data.build', equals: '${build}' } };
    expect(judge(v, answer(200, '{"data":{"build":42}}'), { build: 42 }).verdict).toBe('pass');
    expect(judge(v, answer(200, '{"data":{"build":41}}'), { build: 42 }).reason).toBe('data.build is 41, expected "42"');
    expect(judge(v, answer(200, '{"data":{}}'), { build: 42 }).reason).toBe('the JSON has no data.build');
    expect(judge(v, answer(200, '<html>'), { build: 42 }).reason).toMatch(/not JSON/);
    expect(judge({ ...check, json: { path: 'ok', equals: true } }, answer(200, '{"ok":"true"}'), {}).verdict).toBe('fail');
  });

  it('the latency limit is judged last, after the content, and is retried', () => {
    const slow = { ...check, contains: 'OK', maxLatency: '100ms' };
    expect(judge(slow, answer(200, 'OK', 250), {})).toMatchObject({
      verdict: 'fail',
      retry: true,
      reason: 'answered in 250ms, over the limit of 100ms',
    });
    expect(judge(slow, answer(200, 'nope', 250), {})).toMatchObject({ verdict: 'fail', retry: false });
    expect(judge(slow, answer(200, 'OK', 99), {}).verdict).toBe('pass');
  });
});

describe('smoke helpers', () => {
  it('jsonField reads dotted and indexed paths, and tells a missing field from a null one', () => {
    const body = { items: [{ id: 'a' }, { id: null }] };
    expect(jsonField(body, 'items.0.id')).toEqual({ found: true, value: 'a' });
    expect(jsonField(body, 'items[1].id')).toEqual({ found: true, value: null });
    expect(jsonField(body, 'items.2.id')).toEqual({ found: false });
    expect(jsonField(body, 'items.length')).toEqual({ found: false });
  });

  it('shownUrl hides credentials and keeps the URL as written otherwise', () => {
    expect(shownUrl('http://deploy:s3cret@10.0.0.7:8081')).toBe('http://***@10.0.0.7:8081');
    expect(shownUrl('https://token@example.com/up?x=1')).toBe('https://***@example.com/up?x=1');
    expect(shownUrl('http://10.0.0.7:8081/up')).toBe('http://10.0.0.7:8081/up');
  });
});
