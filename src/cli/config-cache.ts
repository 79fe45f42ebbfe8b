/**
 * What the home screen needs of cockpit.config.yaml (the checklists folder, the audit log, the secret variables, the
 * release calendar), remembered by the file's content hash: reading the config means YAML and zod, which are a third
 * of the home screen's code, and the file rarely changes (docs/architecture.md §6). Like the checklist summaries'
 * cache (summary-cache.ts), only ever a shortcut: only a config that read without a problem is kept (a broken one is
 * read, and reported, the normal way each time), an unreadable or stale cache is ignored, a failed write is ignored.
 * A config whose audit log is a PostgreSQL URL is not kept: the URL may hold a password, and that start loads pg anyway.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { MAX_YAML_CHARS } from '../core/yaml-limits.js';
import path from 'node:path';
import { parseAuditUrl } from '../core/audit-url.js';
import { cockpitVersion } from '../version.js';
import { LOCAL_CONFIG } from '../paths.js';
import { cacheDir, writeCacheFile } from './first-frame.js';
import type { HomeConfig } from './workspace.js';

type CacheFile = { version: string; entries: Record<string, { sha1: string; config: HomeConfig }> };

const cacheFile = () => path.join(cacheDir(), 'home-config.json');

const sha1Of = (text: string) => createHash('sha1').update(text).digest('hex');

/** `cockpit.local.yaml` beside the config file: this machine's values laid over it (cli/config.ts `loadConfig`). */
export function localConfigFile(configFile: string): string {
  return path.join(path.dirname(configFile), LOCAL_CONFIG);
}

/** A config file that is not a file the cockpit may read (bad input, exit 2). */
export class ConfigFileError extends UsageError {}

/**
 * The text of a config file (cockpit.config.yaml, cockpit.local.yaml) or a checklist of the repository, or null when
 * there is none. Looked at before it is read: a FIFO (which would wait for a writer forever), a device (/dev/zero: read until memory runs out) or a file
 * far over the YAML limit is refused with what it is, at once.
 */
export function readConfigFile(file: string, within?: string, what: 'config' | 'checklist' = 'config'): string | null {
  if (within !== undefined) {
    // A link that leads out of the folder: the file read would not be the repository's (a committed link to a
    // credentials file would print its lines in the error that names its unknown keys, in a CI log).
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      real = file; // missing (ENOENT: none) or unreadable: said below
    }
    let folder: string;
    try {
      folder = realpathSync(within);
    } catch {
      folder = path.resolve(within);
    }
    if (real !== file && real !== path.join(folder, path.basename(file)) && !real.startsWith(folder + path.sep))
      throw new ConfigFileError(
        `${file} is a link to ${real}, outside ${within}: the cockpit reads it only from inside that folder (${what === 'config' ? 'name a config elsewhere with --config' : 'name a checklist file elsewhere by its path'})`,
      );
  }
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading otherwise waits for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigFileError(`${file} cannot be read: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new ConfigFileError(
        `${file} is not a regular file (${st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a folder' : 'a device or socket'}): the cockpit reads ${what === 'config' ? 'its config' : 'a checklist'} only from a file`,
      );
    // A character is at most 4 bytes: past that the text is over the limit whatever it holds.
    if (st.size > MAX_YAML_CHARS * 4)
      throw new ConfigFileError(
        `${file} is ${(st.size / 1024 / 1024).toFixed(1)} MB: more than the 1 MB a YAML file read by the cockpit may be`,
      );
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const readText = (file: string): string | null => {
  try {
    return readConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigFileError) throw e;
    return null;
  }
};

/**
 * What the config is read from: the file's text, and its local overlay's after a separator when there is one (so a
 * change to either is a change of the key); null when neither can be read.
 */
export function readConfigText(file: string): string | null {
  const base = readText(file);
  const local = readText(localConfigFile(file));
  if (local === null) return base;
  return `${base ?? ''}\u0000cockpit.local.yaml\u0000${local}`;
}

function readCache(): CacheFile {
  try {
    const c = JSON.parse(readFileSync(cacheFile(), 'utf8')) as CacheFile;
    if (c.version === cockpitVersion() && c.entries && typeof c.entries === 'object') return c;
  } catch {
    // None yet, or unreadable.
  }
  return { version: cockpitVersion(), entries: {} };
}

/** The home part of the config in `file`, whose content is `text`, when the same content was read before; else null. */
export function cachedHomeConfig(file: string, text: string): HomeConfig | null {
  const key = path.resolve(file);
  const entries = readCache().entries;
  const hit = Object.hasOwn(entries, key) ? entries[key] : undefined;
  return hit && hit.sha1 === sha1Of(text) && hit.config && typeof hit.config === 'object' ? hit.config : null;
}

/** The sections of a config the home screen reads (and only those: the rest of the file is not copied anywhere). */
export function homePart(config: HomeConfig): HomeConfig {
  return {
    ...(config.checklists !== undefined ? { checklists: config.checklists } : {}),
    ...(config.audit ? { audit: config.audit } : {}),
    ...(config.secrets ? { secrets: config.secrets } : {}),
    ...(config.release?.schedule ? { release: { schedule: config.release.schedule } } : {}),
  };
}

function isPostgres(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    return parseAuditUrl(url, 'audit.url').kind === 'postgres';
  } catch {
    return true;
  }
}

/**
 * Keep the home part of `config`, read from `file` whose content was `text` (the file is read again: when it changed
 * meanwhile, nothing is kept).
 */
export function keepHomeConfig(file: string, text: string, config: HomeConfig): void {
  if (isPostgres(config.audit?.url) || readConfigText(file) !== text) return;
  const cache = readCache();
  cache.entries[path.resolve(file)] = { sha1: sha1Of(text), config: homePart(config) };
  writeCacheFile(cacheFile(), cache);
}
