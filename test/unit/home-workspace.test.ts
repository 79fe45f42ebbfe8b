/**
 * The home screen's workspace (cli/workspace.ts): the config's home part from the content-hash cache
 * (cli/config-cache.ts) when the file was read before, else read with its schema (the full Workspace). What a user
 * sees must not depend on which: an edited config is read anew, a broken one is reported every time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/cli/config.js';
import { Workspace } from '../../src/cli/setup.js';
import { homeWorkspace } from '../../src/cli/workspace.js';
import { tempRepo } from '../helpers/cli.js';

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

const SCHEDULE = 'release:\n  schedule:\n    every: 14d\n    anchor: 2026-01-07T10:00:00Z\n';

describe("the home screen's workspace", () => {
  it('without a config file is the light one, with an empty config', async () => {
    const ws = await homeWorkspace({ repo: repo.dir });
    expect(ws).not.toBeInstanceOf(Workspace);
    expect(ws.config).toEqual({});
    expect(ws.repoChecklistsDir).toBe(path.join(repo.dir, 'checklists'));
  });

  it('reads a config once with its schema, then takes what home needs from the cache until the file changes', async () => {
    repo.write('cockpit.config.yaml', `checklists: lists\nsecrets:\n  env: [TOKEN]\n${SCHEDULE}`);
    const first = await homeWorkspace({ repo: repo.dir });
    expect(first).toBeInstanceOf(Workspace);
    const second = await homeWorkspace({ repo: repo.dir });
    expect(second).not.toBeInstanceOf(Workspace);
    // The same settings either way, the schema's defaults included (freeze 24h, announce 48h).
    expect(second.config).toEqual({
      checklists: 'lists',
      secrets: { env: ['TOKEN'] },
      release: { schedule: first.config.release!.schedule },
    });
    expect(second.config.release?.schedule).toEqual({ every: '14d', anchor: '2026-01-07T10:00:00Z', freeze: '24h', announce: '48h' });
    expect(second.repoChecklistsDir).toBe(path.join(repo.dir, 'lists'));
    // Edited: read anew, and the new folder is the one listed.
    repo.write('cockpit.config.yaml', 'checklists: other\n');
    const third = await homeWorkspace({ repo: repo.dir });
    expect(third.repoChecklistsDir).toBe(path.join(repo.dir, 'other'));
    expect(third.config.release).toBeUndefined();
  });

  it('reports a broken config every time, and one named with --config that does not exist', async () => {
    repo.write('cockpit.config.yaml', 'checklists: 42\n');
    await expect(homeWorkspace({ repo: repo.dir })).rejects.toThrow(ConfigError);
    await expect(homeWorkspace({ repo: repo.dir })).rejects.toThrow(/checklists/);
    await expect(homeWorkspace({ repo: repo.dir, config: path.join(repo.dir, 'nope.yaml') })).rejects.toThrow(/does not exist/);
  });

  it('never keeps a PostgreSQL audit URL (it may hold a password)', async () => {
    repo.write('cockpit.config.yaml', 'audit:\n  url: postgres://cockpit:s3cret@db.example/audit\n');
    await homeWorkspace({ repo: repo.dir });
    const second = await homeWorkspace({ repo: repo.dir });
    expect(second).toBeInstanceOf(Workspace);
    let kept = '';
    try {
      kept = readFileSync(path.join(cache, 'release-cockpit', 'home-config.json'), 'utf8');
    } catch {
      // Nothing kept at all.
    }
    expect(kept).not.toContain('s3cret');
  });

  it('makes the full workspace over the same audit store when a use case needs it', async () => {
    repo.write('cockpit.config.yaml', 'env:\n  FOO: bar\n');
    await homeWorkspace({ repo: repo.dir });
    const light = await homeWorkspace({ repo: repo.dir });
    expect(light).not.toBeInstanceOf(Workspace);
    // What home does not read is not in the light config…
    expect((light.config as { env?: unknown }).env).toBeUndefined();
    const store = await light.openStore();
    const full = await light.full();
    // …and is in the full one, which shares the store.
    expect(full.config.env).toEqual({ FOO: 'bar' });
    expect(await full.openStore()).toBe(store);
    expect(await light.full()).toBe(full);
    await light.close();
  });
});
