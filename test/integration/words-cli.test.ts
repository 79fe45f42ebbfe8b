import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';

// The words a command prints name what this repository configured and what this run is about.

let repo: ReturnType<typeof tempRepo>;
beforeAll(() => {
  repo = tempRepo({
    ask: 'id: ask\ntitle: Ask\nparams:\n  version: {type: semver, required: true}\nsteps:\n  - id: approve\n    title: Approve\n    kind: confirm\n    prompt: "Is release v${version} approved?"\n',
  });
  repo.write(
    'cockpit.config.yaml',
    'release:\n  versionFiles:\n    - {file: web/app.json, json: version}\n    - {file: VERSION, whole: true}\n',
  );
});
afterAll(() => repo.cleanup());

describe('the words of a run', () => {
  it('the bump step names the version files the config lists, not the defaults (dry run and checklist show)', () => {
    const dry = cockpit(['run', 'release', '-p', 'version=1.4.0', '--dry-run'], { cwd: repo.dir });
    expect(dry.code).toBe(0);
    const bump = dry.stdout.split('\n').find((l) => l.includes('version-files:'))!;
    expect(bump).toContain('write version 1.4.0 into web/app.json, VERSION;');
    expect(bump).not.toContain('frontend/package.json');
    const show = cockpit(['checklist', 'show', 'hotfix'], { cwd: repo.dir });
    expect(show.stdout).toContain('into web/app.json, VERSION;');
    expect(show.stdout).not.toMatch(/into[^\n]*backend\/setup\.py/);
  });

  it('without a config list it says the defaults are the defaults, and where to name others', () => {
    const bare = tempRepo();
    try {
      const dry = cockpit(['run', 'release', '-p', 'version=1.4.0', '--dry-run'], { cwd: bare.dir });
      expect(dry.stdout).toMatch(
        /into the default version files \(frontend\/package\.json, backend\/setup\.py; release\.versionFiles in cockpit\.config\.yaml names others\)/,
      );
    } finally {
      bare.cleanup();
    }
  });

  it("a confirmation's question is asked with the run's values filled in", () => {
    const r = cockpit(['run', 'ask', '-p', 'version=2.4.0', '--non-interactive'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('Is release v2.4.0 approved?');
    expect(r.stdout + r.stderr).not.toContain('${');
  });
});
