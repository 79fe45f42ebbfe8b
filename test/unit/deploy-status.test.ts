import { describe, expect, it } from 'vitest';
import { parseStatus, statusWords } from '../../src/core/deploy/status.js';

const colour = (version: string | null, healthy = true) => ({ version, healthy, url: 'http://127.0.0.1:8081' });

describe("a deploy script's status --json, parsed into one type", () => {
  it('reads a blue-green status, ignoring extra fields and what the script said before its JSON', () => {
    const line = JSON.stringify({
      env: 'production',
      live: 'blue',
      url: 'http://127.0.0.1:8080',
      proxy: { pid: 1 },
      colours: { blue: colour('1.4.0'), green: colour(null, false) },
    });
    const r = parseStatus(`haproxy started\n${line}\n`, 'blue-green');
    expect(r).toEqual({
      ok: true,
      status: {
        strategy: 'blue-green',
        live: 'blue',
        url: 'http://127.0.0.1:8080',
        colours: { blue: colour('1.4.0'), green: colour(null, false) },
      },
    });
    if (r.ok) expect(statusWords('production', r.status)).toBe('production: blue is live · blue 1.4.0 healthy · green (none) unhealthy');
  });

  it('reads JSON printed over several lines (jq prints it so)', () => {
    const pretty = JSON.stringify({ live: 'green', colours: { blue: colour('1.4.0'), green: colour('1.5.0') } }, null, 2);
    expect(parseStatus(`checking…\n${pretty}\n`, 'blue-green')).toMatchObject({ ok: true, status: { live: 'green' } });
  });

  it('reads an in-place status (version and health), with or without a URL', () => {
    expect(parseStatus('{"version":"1.5.0","healthy":true}', 'in-place')).toEqual({
      ok: true,
      status: { strategy: 'in-place', version: '1.5.0', healthy: true, url: null },
    });
  });

  it('says what is wrong with garbage, a wrong shape, or a lie about a colour', () => {
    expect(parseStatus('all good!\n', 'blue-green')).toEqual({ ok: false, problem: 'it printed no JSON object' });
    expect(parseStatus('{"live": "blue",', 'blue-green')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^its JSON does not parse/),
    });
    expect(parseStatus(JSON.stringify({ live: 'purple', colours: { blue: colour('1'), green: colour('2') } }), 'blue-green')).toMatchObject(
      {
        ok: false,
        problem: expect.stringMatching(/^not a blue-green status \(live: /),
      },
    );
    expect(
      parseStatus(JSON.stringify({ live: 'blue', colours: { blue: { version: '1.4.0', healthy: 'yes' } } }), 'blue-green'),
    ).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^not a blue-green status \(colours\.blue\.healthy: /),
    });
    // A blue-green status is not an in-place one: the environment's strategy decides what is read.
    expect(parseStatus(JSON.stringify({ live: 'blue', colours: { blue: colour('1'), green: colour('2') } }), 'in-place')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^not an in-place status \(version: /),
    });
    expect(parseStatus(JSON.stringify({ version: '1.0.0', healthy: true, url: 'javascript:alert(1)' }), 'in-place')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/url: expected an http/),
    });
  });
});
