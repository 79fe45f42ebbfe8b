// The demo's chat token and status-page API key (new at every start) on disk: only in cockpit.local.yaml, and that
// file, like the supervisor's processes.json, readable by its owner only. The receivers are started for real by the
// supervisor (startAll) in a folder of their own.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiversService } from '../../src/demo/receivers.js';
import { LOCAL_CONFIG } from '../../src/paths.js';
import { processesFile, startAll, stopAll } from '../../src/demo/supervisor.js';

let dir = '';
let processesText = '';
let processesMode = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-secrets-'));
  await startAll({ dir, services: [receiversService] });
  // Read while the services run: stopAll removes the record.
  processesText = readFileSync(processesFile(dir), 'utf8');
  processesMode = statSync(processesFile(dir)).mode & 0o777;
}, 30_000);

afterAll(async () => {
  if (dir) await stopAll(dir, () => {}, [receiversService]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the demo's secrets on disk", () => {
  it('cockpit.local.yaml holds the token and the key, readable by its owner only', () => {
    const file = path.join(dir, LOCAL_CONFIG);
    const local = parse(readFileSync(file, 'utf8'));
    expect(local.notify.statuspage.apiKey).toMatch(/^demo-sp-[0-9a-f]{24}$/);
    expect(local.notify.chat.url).toMatch(/\/services\/T0DEMO\/B0DEMO\/[0-9a-f]{24}$/);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('processes.json names the processes, not the secrets, and is readable by its owner only', () => {
    const local = parse(readFileSync(path.join(dir, LOCAL_CONFIG), 'utf8'));
    const token = String(local.notify.chat.url).split('/').at(-1)!;
    expect(JSON.parse(processesText).services[0].processes[0].name).toBe('receivers');
    expect(processesText).not.toContain(token);
    expect(processesText).not.toContain(local.notify.statuspage.apiKey);
    expect(processesMode.toString(8)).toBe('600');
  });
});
