import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/cli/config.js';
import { strategyOf } from '../../src/core/deploy/config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'deploy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = path.join(dir, 'cockpit.config.yaml');
  writeFileSync(file, yaml);
  return loadConfig(file, true);
}

function errorsOf(yaml: string): string[] {
  try {
    load(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.split('\n').map((l) => l.slice(l.indexOf('cockpit.config.yaml')));
  }
  return [];
}

describe('the deploy: section of cockpit.config.yaml', () => {
  it("fills the defaults: the policy's ./scripts/deploy.sh, blue-green for production and in-place elsewhere, a smoke check's", () => {
    const c = load(
      [
        'deploy:',
        '  staging:',
        '    url: http://127.0.0.1:8080',
        '    smoke:',
        '      - {name: health, path: /health}',
        '  production:',
        '    url: https://property.example',
        '    colours: {blue: http://blue.internal, green: http://green.internal}',
        '    keepPrevious: 30m',
        '    build: [make, image]',
        '    smoke:',
        '      - {name: listings, target: colour, path: /api/listings, json: {path: listings.0.id, equals: 1}, maxLatency: 500ms}',
        '',
      ].join('\n'),
    );
    expect(c.deploy!.staging).toMatchObject({
      command: './scripts/deploy.sh',
      smoke: [{ name: 'health', method: 'GET', path: '/health', status: 200 }],
    });
    expect(c.deploy!.production).toMatchObject({
      command: './scripts/deploy.sh',
      build: ['make', 'image'],
      colours: { blue: 'http://blue.internal' },
    });
    expect(c.deploy!.production.smoke[0]).toMatchObject({
      target: 'colour',
      json: { path: 'listings.0.id', equals: 1 },
      maxLatency: '500ms',
    });
    expect(strategyOf('production', c.deploy!.production)).toBe('blue-green');
    expect(strategyOf('staging', c.deploy!.staging)).toBe('in-place');
    expect(strategyOf('staging', { strategy: 'blue-green' })).toBe('blue-green');
  });

  it('reports mistakes at file:line:column, like the other sections', () => {
    const yaml = [
      'deploy:',
      '  staging:',
      '    strategy: rolling',
      '    url: property.example',
      '    smoke:',
      '      - {name: h, path: health, status: 2000, maxLatency: soon}',
      '  production:',
      '    strategy: in-place',
      '    colours: {blue: http://b, green: http://g}',
      '    keepPrevious: 10m',
      '',
    ].join('\n');
    const errors = errorsOf(yaml);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cockpit\.config\.yaml:3:\d+: deploy\.staging\.strategy: /),
        expect.stringMatching(/^cockpit\.config\.yaml:4:\d+: deploy\.staging\.url: expected an http:\/\/ or https:\/\/ URL$/),
        expect.stringMatching(/^cockpit\.config\.yaml:6:\d+: deploy\.staging\.smoke\.0\.path: expected a path starting with '\/'$/),
        expect.stringMatching(/^cockpit\.config\.yaml:6:\d+: deploy\.staging\.smoke\.0\.status: /),
        expect.stringMatching(/^cockpit\.config\.yaml:6:\d+: deploy\.staging\.smoke\.0\.maxLatency: expected a duration/),
      ]),
    );
    // The in-place production: colours and keepPrevious do not apply (each said where it is written).
    const inPlace = errorsOf(yaml.split('\n').slice(0, 1).concat(yaml.split('\n').slice(6)).join('\n'));
    expect(inPlace).toEqual([
      expect.stringMatching(/^cockpit\.config\.yaml:4:\d+: deploy\.production\.colours: colours apply to the blue-green strategy only/),
      expect.stringMatching(
        /^cockpit\.config\.yaml:5:\d+: deploy\.production\.keepPrevious: keepPrevious applies to the blue-green strategy only$/,
      ),
    ]);
  });
});
