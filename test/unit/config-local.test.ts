/**
 * cockpit.local.yaml: this machine's values laid over the committed cockpit.config.yaml (the demo writes the ports it
 * chose there; a user keeps a local Prometheus URL or token there). What a user notices: the local value wins, the
 * rest of the committed file stays, a problem is reported in the file that holds it, and the home screen's cache
 * sees a change to either file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/cli/config.js';
import { Workspace } from '../../src/cli/setup.js';
import { homeWorkspace } from '../../src/cli/workspace.js';
import { UsageError } from '../../src/core/errors.js';
import { overlay, parseYamlLayers } from '../../src/core/yaml-input.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

let repo: ReturnType<typeof tempRepo>;
let cache: string;
const saved = process.env.XDG_CACHE_HOME;

beforeEach(() => {
  repo = tempRepo();
  cache = mkdtempSync(path.join(os.tmpdir(), 'cockpit-cache-'));
  process.env.XDG_CACHE_HOME = cache;
});

afterEach(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved;
  repo.cleanup();
  rmSync(cache, { recursive: true, force: true });
});

describe('overlay', () => {
  it('merges objects key by key; a list or a scalar replaces', () => {
    expect(overlay({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, e: true })).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: true });
    expect(overlay({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
  });

  it('reports a problem in the file whose value is read', () => {
    const schema = z.strictObject({ a: z.strictObject({ n: z.number(), s: z.string() }) });
    const layers = [
      { file: 'base.yaml', text: 'a:\n  n: 1\n  s: ok\n' },
      { file: 'local.yaml', text: '# local\na:\n  n: "two"\n' },
    ];
    const r = parseYamlLayers(layers, schema, 'config');
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/^local\.yaml:3:6: a\.n: /) });
    const r2 = parseYamlLayers(
      [
        { file: 'base.yaml', text: 'a:\n  n: 1\n  s: 3\n' },
        { file: 'local.yaml', text: 'a:\n  n: 2\n' },
      ],
      schema,
      'config',
    );
    expect(r2).toEqual({ ok: false, message: expect.stringMatching(/^base\.yaml:3:6: a\.s: /) });
    const r3 = parseYamlLayers([layers[0], { file: 'local.yaml', text: 'a:\n  typo: 1\n' }], schema, 'config');
    expect(r3).toEqual({ ok: false, message: expect.stringMatching(/^local\.yaml:2:3: a\.typo: /) });
  });
});

describe('cockpit.local.yaml', () => {
  const WATCH = 'watch:\n  interval: 1s\n  prometheus:\n    url: http://127.0.0.1:9090\n';

  it('lays its values over the committed config', () => {
    repo.write('cockpit.config.yaml', `checklists: lists\n${WATCH}`);
    repo.write('cockpit.local.yaml', 'watch:\n  prometheus:\n    url: http://127.0.0.1:41234\n');
    const c = loadConfig(path.join(repo.dir, 'cockpit.config.yaml'), false);
    expect(c.checklists).toBe('lists');
    expect(c.watch).toMatchObject({ interval: '1s', prometheus: { url: 'http://127.0.0.1:41234' } });
  });

  it('is read alone when there is no committed config', () => {
    repo.write('cockpit.local.yaml', 'checklists: mine\n');
    expect(loadConfig(path.join(repo.dir, 'cockpit.config.yaml'), false)).toEqual({ checklists: 'mine' });
  });

  it('names itself in an error', () => {
    repo.write('cockpit.config.yaml', WATCH);
    repo.write('cockpit.local.yaml', 'watch:\n  prometheus:\n    url: 42\n');
    expect(() => loadConfig(path.join(repo.dir, 'cockpit.config.yaml'), false)).toThrow(
      new RegExp(`^${path.join(repo.dir, 'cockpit.local.yaml').replace(/[.\\/]/g, '\\$&')}:3:10: watch\\.prometheus\\.url`),
    );
    expect(() => loadConfig(path.join(repo.dir, 'cockpit.config.yaml'), false)).toThrow(ConfigError);
  });

  it("is part of the home screen's cache key: a change to it alone is read anew", async () => {
    repo.write('cockpit.config.yaml', 'checklists: lists\n');
    await homeWorkspace({ repo: repo.dir });
    expect(await homeWorkspace({ repo: repo.dir })).not.toBeInstanceOf(Workspace);
    repo.write('cockpit.local.yaml', 'checklists: local-lists\n');
    const ws = await homeWorkspace({ repo: repo.dir });
    expect(ws).toBeInstanceOf(Workspace);
    expect(ws.repoChecklistsDir).toBe(path.join(repo.dir, 'local-lists'));
    const again = await homeWorkspace({ repo: repo.dir });
    expect(again).not.toBeInstanceOf(Workspace);
    expect(again.repoChecklistsDir).toBe(path.join(repo.dir, 'local-lists'));
  });
});

describe('a config file that is not a small regular file', () => {
  const config = () => path.join(repo.dir, 'cockpit.config.yaml');
  const local = () => path.join(repo.dir, 'cockpit.local.yaml');

  it('a FIFO as cockpit.local.yaml is refused at once (reading it would wait for a writer forever)', async () => {
    repo.write('cockpit.config.yaml', 'checklists: lists\n');
    execFileSync('mkfifo', [local()]);
    expect(() => loadConfig(config(), false)).toThrow(
      `${local()} is not a regular file (a FIFO): the cockpit reads its config only from a file`,
    );
    // The home screen reads it first, for its cache key.
    await expect(homeWorkspace({ repo: repo.dir })).rejects.toThrow('is not a regular file (a FIFO)');
  }, 5_000);

  it.skipIf(!existsSync('/dev/zero'))(
    '/dev/zero named with --config is refused, not read until memory runs out',
    () => {
      expect(() => loadConfig('/dev/zero', true)).toThrow('/dev/zero is not a regular file (a device or socket)');
    },
    5_000,
  );

  it('a link leading out of the repository is refused, and what it leads to is not printed', () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'cockpit-outside-'));
    try {
      const secret = path.join(outside, 'credentials');
      writeFileSync(secret, 'aws_secret_access_key: AKIAVERYSECRET\n');
      // Committed (git stores links): the config itself, then the local overlay.
      symlinkSync(secret, config());
      const e = (() => {
        try {
          loadConfig(config(), false);
        } catch (err) {
          return err as Error;
        }
        throw new Error('no error');
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(
        `${config()} is a link to ${realpathSync(secret)}, outside ${repo.dir}: the cockpit reads it only from inside that folder (name a config elsewhere with --config)`,
      );
      rmSync(config());
      symlinkSync(secret, local());
      expect(() => loadConfig(config(), false)).toThrow(`${local()} is a link to ${realpathSync(secret)}, outside ${repo.dir}`);
      // Named with --config, a file elsewhere is read (its unknown key said as usual).
      expect(() => loadConfig(secret, true)).toThrow(/aws_secret_access_key/);
      // A link within the repository is fine.
      rmSync(local());
      repo.write('config/local.yaml', 'checklists: mine\n');
      symlinkSync(path.join(repo.dir, 'config', 'local.yaml'), local());
      expect(loadConfig(config(), false)).toEqual({ checklists: 'mine' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a file of gigabytes is refused by its size, without reading it', () => {
    writeFileSync(config(), 'checklists: lists\n');
    truncateSync(config(), 3 * 1024 ** 3); // sparse: no disk used
    expect(() => loadConfig(config(), false)).toThrow(
      `${config()} is 3072.0 MB: more than the 1 MB a YAML file read by the cockpit may be`,
    );
  }, 5_000);
});

describe("the repository's checklists are read like its config", () => {
  it('a checklist linked out of the repository is refused, its lines never printed; a FIFO is refused at once', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'cockpit-outside-'));
    try {
      writeFileSync(path.join(outside, 'secret'), 'id: x\ntitle: y\nsteps: []\nroot:$6$hash:1:::\n');
      repo.write('checklists/.keep', '');
      symlinkSync(path.join(outside, 'secret'), path.join(repo.dir, 'checklists', 'leak.yaml'));
      const r = cockpit(['--repo', repo.dir, 'checklist', 'show', 'leak']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/leak\.yaml is a link to .*secret, outside .*checklists: the cockpit reads it only from inside that folder/);
      expect(r.stdout + r.stderr).not.toContain('$6$hash');
      rmSync(path.join(repo.dir, 'checklists', 'leak.yaml'));
      spawnSync('mkfifo', [path.join(repo.dir, 'checklists', 'pipe.yaml')]);
      const t0 = Date.now();
      const f = cockpit(['--repo', repo.dir, 'checklist', 'show', 'pipe'], { timeout: 20_000 });
      expect(f.code).toBe(2);
      expect(f.stderr).toMatch(/pipe\.yaml is not a regular file \(a FIFO\): the cockpit reads a checklist only from a file/);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
