import { describe, expect, it } from 'vitest';
import {
  defaultVersionFiles,
  readVersion,
  versionFileSpecSchema,
  writeVersion,
  type VersionFileSpec,
} from '../../src/core/release/version-files.js';

const PACKAGE_JSON = `{
  "name": "property-frontend",
  "version": "1.3.0",
  "private": true,
  "description": "has a \\"version\\" in a string",
  "scripts": { "build": "vite build", "version": "echo not this one" },
  "engines": {
    "node": ">=20",
    "version": "0.0.1"
  },
  "dependencies": {
    "react": "^19.0.0"
  },
  "files": ["dist", {"version": "x"}]
}
`;

const SETUP_PY_DOUBLE = `from setuptools import setup, find_packages

__version__ = "0.0.0"

setup(
    name="property-backend",
    version="1.3.0",
    packages=find_packages(),
    python_requires=">=3.10",
    install_requires=["django==4.2.11"],
)
`;

const PYPROJECT = `# Property backend
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "property"
version = "1.3.0"  # bumped by the cockpit
dependencies = [
  "django>=4.2",
  "requests",
]

[tool.poetry]
name = "property"
version = '1.3.0'
description = """
[tool.fake]
version = "0.0.0"
"""

[tool.other]
version = "7.7.7"

[[tool.list]]
version = "8.8.8"
`;

function write(text: string, spec: VersionFileSpec, version: string): string {
  const r = writeVersion(text, spec, version);
  if (!r.ok) throw new Error(r.message);
  return r.text;
}

/** The text with only `from` → `to` changed at the one place, to compare whole files. */
function changedOnce(text: string, marker: string, to: string): string {
  const i = text.indexOf(marker);
  expect(i).toBeGreaterThanOrEqual(0);
  return text.slice(0, i) + to + text.slice(i + marker.length);
}

describe('json', () => {
  const spec: VersionFileSpec = { file: 'frontend/package.json', json: 'version' };

  it('reads the top-level version, not one nested under engines, in scripts or in an array', () => {
    expect(readVersion(PACKAGE_JSON, spec)).toEqual({ ok: true, version: '1.3.0' });
    expect(readVersion(PACKAGE_JSON, { file: 'p.json', json: 'engines.version' })).toEqual({ ok: true, version: '0.0.1' });
  });

  it('changes only the version characters: formatting, key order and the nested one stay', () => {
    const out = write(PACKAGE_JSON, spec, '1.4.0');
    expect(out).toBe(changedOnce(PACKAGE_JSON, '"version": "1.3.0"', '"version": "1.4.0"'));
    expect(JSON.parse(out).engines.version).toBe('0.0.1');
    expect(readVersion(out, spec)).toEqual({ ok: true, version: '1.4.0' });
  });

  it('a nested path changes only that key', () => {
    const out = write(PACKAGE_JSON, { file: 'p.json', json: 'engines.version' }, '0.0.2');
    expect(out).toBe(changedOnce(PACKAGE_JSON, '"version": "0.0.1"', '"version": "0.0.2"'));
  });

  it('keeps CRLF line endings, tabs and a BOM', () => {
    const text = '\uFEFF{\r\n\t"name": "x",\r\n\t"version": "2.0.0-rc.1"\r\n}\r\n';
    const out = write(text, spec, '2.0.0');
    expect(out).toBe('\uFEFF{\r\n\t"name": "x",\r\n\t"version": "2.0.0"\r\n}\r\n');
  });

  it('handles a minified file', () => {
    expect(write('{"a":[1,{"b":"c"}],"version":"1.0.0","z":null}', spec, '1.0.1')).toBe('{"a":[1,{"b":"c"}],"version":"1.0.1","z":null}');
  });

  it('writing the same version gives the same text', () => {
    expect(write(PACKAGE_JSON, spec, '1.3.0')).toBe(PACKAGE_JSON);
  });

  it('errors name the file and what is wrong', () => {
    expect(readVersion('{"name": "x"}', spec)).toEqual({ ok: false, message: 'frontend/package.json: no "version" key' });
    expect(readVersion('{"engines": {"node": "20"}}', { file: 'p.json', json: 'engines.version' })).toEqual({
      ok: false,
      message: 'p.json: no "engines.version" key',
    });
    expect(readVersion('{"version": 3}', spec)).toEqual({ ok: false, message: 'frontend/package.json: "version" is not a string' });
    expect(readVersion('{"version": ""}', spec)).toEqual({ ok: false, message: 'frontend/package.json: the version is empty' });
    expect(readVersion('{"version": "1", "version": "2"}', spec)).toEqual({
      ok: false,
      message: 'frontend/package.json: "version" is set 2 times',
    });
    const bad = readVersion('{"version": "1.0.0",}', spec);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^frontend\/package\.json: not valid JSON/);
    const w = writeVersion('{"name": "x"}', spec, '1.0.0');
    expect(w).toEqual({ ok: false, message: 'frontend/package.json: no "version" key' });
  });
});

describe('regex (setup.py)', () => {
  const spec = defaultVersionFiles()[1];

  it('the defaults are package.json and setup.py', () => {
    expect(defaultVersionFiles().map((f) => f.file)).toEqual(['frontend/package.json', 'backend/setup.py']);
    expect(defaultVersionFiles()[0]).toEqual({ file: 'frontend/package.json', json: 'version' });
    for (const f of defaultVersionFiles()) expect(versionFileSpecSchema.safeParse(f).success).toBe(true);
  });

  it('reads and writes version="…" in setup(), leaving __version__ and python_requires alone', () => {
    expect(readVersion(SETUP_PY_DOUBLE, spec)).toEqual({ ok: true, version: '1.3.0' });
    expect(write(SETUP_PY_DOUBLE, spec, '1.4.0')).toBe(changedOnce(SETUP_PY_DOUBLE, 'version="1.3.0"', 'version="1.4.0"'));
  });

  it("reads and writes version='…' with single quotes, keeping them", () => {
    const single = SETUP_PY_DOUBLE.replace('version="1.3.0"', "version = '1.3.0'");
    expect(readVersion(single, spec)).toEqual({ ok: true, version: '1.3.0' });
    expect(write(single, spec, '1.3.1')).toBe(changedOnce(single, "version = '1.3.0'", "version = '1.3.1'"));
  });

  it('keeps CRLF and is idempotent', () => {
    const crlf = SETUP_PY_DOUBLE.replace(/\n/g, '\r\n');
    const out = write(crlf, spec, '2.0.0');
    expect(out).toBe(crlf.replace('version="1.3.0"', 'version="2.0.0"'));
    expect(write(out, spec, '2.0.0')).toBe(out);
  });

  it('a pattern with one plain group replaces that group', () => {
    const s: VersionFileSpec = { file: 'src/app/__init__.py', regex: '^__version__ = "([^"]+)"$' };
    const text = '"""App."""\r\n__version__ = "0.9.0"\r\n';
    expect(readVersion(text, s)).toEqual({ ok: true, version: '0.9.0' });
    expect(write(text, s, '1.0.0')).toBe('"""App."""\r\n__version__ = "1.0.0"\r\n');
  });

  it('a pattern that matches twice, or not at all, is an error', () => {
    const twice = SETUP_PY_DOUBLE + '\nsetup(name="other", version="2.0.0")\n';
    expect(readVersion(twice, spec)).toEqual({
      ok: false,
      message: expect.stringMatching(/^backend\/setup\.py: the pattern .* matches 2 places; make it specific$/),
    });
    expect(readVersion('setup(name="x", version=get_version())\n', spec)).toEqual({
      ok: false,
      message: expect.stringMatching(/^backend\/setup\.py: the pattern .* matches nothing$/),
    });
  });

  it('a pattern that would not find the new version after writing is refused', () => {
    const s: VersionFileSpec = { file: 'v.txt', regex: 'version: (1\\.\\d+\\.\\d+)' };
    expect(readVersion('version: 1.2.3\n', s)).toEqual({ ok: true, version: '1.2.3' });
    const w = writeVersion('version: 1.2.3\n', s, '2.0.0');
    expect(w).toEqual({ ok: false, message: expect.stringMatching(/^v\.txt: after writing 2\.0\.0, the pattern .* matches nothing$/) });
  });
});

describe('toml (pyproject.toml)', () => {
  it('[project] version: not the one in [tool.poetry], [tool.other], an array of tables or inside a multi-line string', () => {
    expect(readVersion(PYPROJECT, { file: 'pyproject.toml', toml: 'project.version' })).toEqual({ ok: true, version: '1.3.0' });
    const out = write(PYPROJECT, { file: 'pyproject.toml', toml: 'project.version' }, '1.4.0');
    expect(out).toBe(changedOnce(PYPROJECT, 'version = "1.3.0"  # bumped', 'version = "1.4.0"  # bumped'));
  });

  it('[tool.poetry] version, in single quotes', () => {
    const spec: VersionFileSpec = { file: 'pyproject.toml', toml: 'tool.poetry.version' };
    expect(readVersion(PYPROJECT, spec)).toEqual({ ok: true, version: '1.3.0' });
    expect(write(PYPROJECT, spec, '1.4.0')).toBe(changedOnce(PYPROJECT, "version = '1.3.0'", "version = '1.4.0'"));
    expect(readVersion(PYPROJECT, { file: 'pyproject.toml', toml: 'tool.other.version' })).toEqual({ ok: true, version: '7.7.7' });
  });

  it('a dotted key, a quoted table name and an inline table are found too', () => {
    expect(readVersion('[tool]\npoetry.version = "2.0.0"\n', { file: 'p.toml', toml: 'tool.poetry.version' })).toEqual({
      ok: true,
      version: '2.0.0',
    });
    expect(readVersion('[ tool . "poetry" ]\nversion="2.0.1"\n', { file: 'p.toml', toml: 'tool.poetry.version' })).toEqual({
      ok: true,
      version: '2.0.1',
    });
    const inline = 'project = { name = "x", version = "2.0.2" }\n';
    expect(readVersion(inline, { file: 'p.toml', toml: 'project.version' })).toEqual({ ok: true, version: '2.0.2' });
    expect(write(inline, { file: 'p.toml', toml: 'project.version' }, '2.1.0')).toBe('project = { name = "x", version = "2.1.0" }\n');
  });

  it('keeps CRLF and is idempotent', () => {
    const crlf = PYPROJECT.replace(/\n/g, '\r\n');
    const spec: VersionFileSpec = { file: 'pyproject.toml', toml: 'project.version' };
    const out = write(crlf, spec, '1.5.0');
    expect(out).toBe(crlf.replace('version = "1.3.0"  #', 'version = "1.5.0"  #'));
    expect(write(out, spec, '1.5.0')).toBe(out);
    expect(readVersion(out, { file: 'pyproject.toml', toml: 'tool.poetry.version' })).toEqual({ ok: true, version: '1.3.0' });
  });

  it('errors say which table or key is missing', () => {
    expect(readVersion('[project]\nname = "x"\ndynamic = ["version"]\n', { file: 'pyproject.toml', toml: 'project.version' })).toEqual({
      ok: false,
      message: 'pyproject.toml: no "version" key in [project]',
    });
    expect(readVersion(PYPROJECT, { file: 'pyproject.toml', toml: 'tool.hatch.version' })).toEqual({
      ok: false,
      message: 'pyproject.toml: no [tool.hatch] table',
    });
    expect(readVersion('[project]\nversion = 1\n', { file: 'pyproject.toml', toml: 'project.version' })).toEqual({
      ok: false,
      message: 'pyproject.toml: project.version is not a string',
    });
    expect(
      readVersion('[project]\nversion = "1"\n[project]\nversion = "2"\n', { file: 'pyproject.toml', toml: 'project.version' }),
    ).toEqual({
      ok: false,
      message: 'pyproject.toml: project.version is set 2 times',
    });
  });
});

describe('whole (VERSION)', () => {
  const spec: VersionFileSpec = { file: 'VERSION', whole: true };

  it('reads the trimmed text and keeps the trailing newline (or its absence, or CRLF)', () => {
    expect(readVersion('1.3.0\n', spec)).toEqual({ ok: true, version: '1.3.0' });
    expect(write('1.3.0\n', spec, '1.4.0')).toBe('1.4.0\n');
    expect(write('1.3.0', spec, '1.4.0')).toBe('1.4.0');
    expect(write('1.3.0\r\n', spec, '1.4.0')).toBe('1.4.0\r\n');
    expect(write('1.3.0\n', spec, '1.3.0')).toBe('1.3.0\n');
  });

  it('an empty file cannot be read but gets the version written', () => {
    expect(readVersion('\n', spec)).toEqual({ ok: false, message: 'VERSION: the file is empty; expected the version in it' });
    expect(write('', spec, '0.1.0')).toBe('0.1.0\n');
  });

  it('more than the version is an error', () => {
    const r = readVersion('1.3.0\nreleased on friday\n', spec);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/^VERSION: expected only the version in the file/);
  });
});

describe('writeVersion refuses text that is not a version', () => {
  it.each(['', '1.0.0 beta', '1.0.0"', "1.0'", '1.0\\', '1.0\n', '1.0\x1b[31m'])('%j', (v) => {
    const r = writeVersion(PACKAGE_JSON, { file: 'frontend/package.json', json: 'version' }, v);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/^frontend\/package\.json: .* cannot be written as a version/);
  });
});

describe('versionFileSpecSchema', () => {
  const issues = (v: unknown) => {
    const r = versionFileSpecSchema.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('accepts each kind', () => {
    expect(versionFileSpecSchema.parse({ file: 'a.json', json: 'version' })).toEqual({ file: 'a.json', json: 'version' });
    expect(versionFileSpecSchema.parse({ file: 'pyproject.toml', toml: 'tool.poetry.version' })).toEqual({
      file: 'pyproject.toml',
      toml: 'tool.poetry.version',
    });
    expect(versionFileSpecSchema.parse({ file: 'x.py', regex: 'V = "(.*)"' })).toEqual({ file: 'x.py', regex: 'V = "(.*)"' });
    expect(versionFileSpecSchema.parse({ file: 'x.py', regex: '(?<q>["\'])(?<v>[^"\']+)\\k<q>' }).file).toBe('x.py');
    expect(versionFileSpecSchema.parse({ file: 'VERSION', whole: true })).toEqual({ file: 'VERSION', whole: true });
  });

  it('needs exactly one of json, toml, regex, whole', () => {
    expect(issues({ file: 'a' })).toEqual([
      {
        path: '',
        message: expect.stringContaining('one of json: <key path>, toml: <table.key>, regex: <pattern with a group>, or whole: true'),
      },
    ]);
    expect(issues({ file: 'a', json: 'version', toml: 'project.version' })).toEqual([
      { path: 'toml', message: 'give exactly one of json, toml, regex, whole (found json and toml)' },
    ]);
  });

  it('checks the pattern compiles and has one group (or a group named v)', () => {
    expect(issues({ file: 'a', regex: 'version=(' })).toEqual([
      { path: 'regex', message: expect.stringMatching(/^the pattern does not compile: /) },
    ]);
    expect(issues({ file: 'a', regex: 'version=\\d+' })).toEqual([
      { path: 'regex', message: expect.stringMatching(/^the pattern has no capture group/) },
    ]);
    expect(issues({ file: 'a', regex: '(a)=(b)' })).toEqual([
      { path: 'regex', message: expect.stringMatching(/^the pattern has 2 capture groups: name the version's one \(\?<v>…\)/) },
    ]);
  });

  it('checks the other fields', () => {
    expect(issues({ file: '/etc/passwd', whole: true })).toEqual([
      { path: 'file', message: expect.stringContaining('inside the repository') },
    ]);
    expect(issues({ file: '../x/VERSION', whole: true })).toEqual([
      { path: 'file', message: expect.stringContaining('inside the repository') },
    ]);
    expect(issues({ file: 'VERSION', whole: false })).toEqual([
      { path: 'whole', message: 'expected whole: true (the file holds only the version)' },
    ]);
    expect(issues({ file: 'a.json', json: 'a..b' })).toEqual([{ path: 'json', message: expect.stringContaining('dotted path') }]);
    expect(issues({ file: 'a.json', json: 'version', extra: 1 })).toEqual([{ path: '', message: expect.stringContaining('extra') }]);
  });
});
