/**
 * The workspace's light part: the repository, the config's paths and settings the home screen uses, the audit log's
 * location and store, the checklist files. It imports no zod, YAML, drizzle, step kind or engine code, so the home
 * screen's first frame does not load them (docs/architecture.md §6); `full()` (cli/setup.ts's Workspace) has the rest.
 * The config comes from a cache keyed by the file's content when it has been read before (cli/config-cache.ts).
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../app/errors.js';
import type { AuditStore } from '../audit/store.js';
import type { AuditReader } from '../audit/sqlite-reader.js';
import type { ChecklistResolver } from '../core/checklist/bundle.js';
import type { ChecklistSource } from '../core/checklist/types.js';
import { defaultChecklistsDir } from '../paths.js';
import type { CockpitConfig } from './config.js';
import { trackStore } from './open-stores.js';
import { parseAuditUrl } from '../core/audit-url.js';
import { cockpitCommand } from '../core/command-line.js';
import { cachedHomeConfig, keepHomeConfig, localConfigFile, readConfigFile, readConfigText } from './config-cache.js';
import type { Workspace } from './setup.js';
import { signatures, type Inputs } from './first-frame.js';

export interface GlobalOptions {
  repo?: string;
  config?: string;
  auditUrl?: string;
}

/** What the light workspace (and the home screen) reads of the config; the full Workspace has all of it. */
export type HomeConfig = Pick<CockpitConfig, 'checklists' | 'audit' | 'secrets'> & {
  release?: Pick<NonNullable<CockpitConfig['release']>, 'schedule'>;
};

/** The config is not in the cache: it is read with its schema (cli/setup.ts), which is not loaded yet. */
export class NeedsFullConfig extends UsageError {
  constructor() {
    super('the config is read with the full workspace');
  }
}

/**
 * The home screen's workspace: light when the config is known (no file, or one read before with the same content),
 * else the full one, which reads the config with its schema (and keeps what home needs of it for the next start).
 */
export async function homeWorkspace(opts: GlobalOptions): Promise<BaseWorkspace> {
  // The text as it was before the full Workspace read it: what is kept is what was read from exactly that text.
  let text: string | null = null;
  try {
    return new BaseWorkspace(opts, 'cockpit', (file, explicit) => {
      if (!explicit && !existsSync(file) && !existsSync(localConfigFile(file))) return {};
      text = readConfigText(file);
      const cached = text === null ? null : cachedHomeConfig(file, text);
      if (cached) return cached;
      throw new NeedsFullConfig();
    });
  } catch (e) {
    if (!(e instanceof NeedsFullConfig)) throw e;
  }
  const { Workspace } = await import('./setup.js');
  const ws = new Workspace(opts);
  if (text !== null) keepHomeConfig(ws.configFile, text, ws.config);
  return ws;
}

/** The git repository around `start` (the folder holding .git), or null outside one. */
function findRepoRoot(start: string): string | null {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** What a command that would write the audit log says outside a git repository (without --repo). */
export const NO_REPO_REFUSAL =
  'not inside a git repository, so there is no repository to keep the audit log in. Run the cockpit inside your repository, or pass --repo <dir> (the repository to work on)';

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** Whether `dir` is `root` or inside it (symbolic links resolved: /tmp and /private/tmp are one place). */
export function isInside(dir: string, root: string): boolean {
  const rel = path.relative(real(root), real(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A URL as it may be printed in a command: its password left out (the client takes it from its own settings). */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

export class BaseWorkspace {
  readonly repoDir: string;
  readonly configFile: string;
  readonly config: HomeConfig;
  /** The repository was named (--repo) or found around the current directory: not just the current directory. */
  readonly inRepo: boolean;
  /** The audit store, shared with the full workspace this one is made into (`full()`). */
  protected shared: { store?: AuditStore; reader?: Promise<AuditReader | null> } = {};
  private upgrade?: Promise<Workspace>;
  /** This process runs outside the repository: the commands it prints need --repo. */
  private elsewhere?: boolean;

  constructor(
    readonly opts: GlobalOptions,
    /** How the operator calls the cockpit, in the commands it prints (the demo's `npx cockpit`). */
    readonly program = 'cockpit',
    /** The config, read from its file (`explicit`: named with --config, so it must exist). */
    readConfig: (file: string, explicit: boolean) => HomeConfig,
  ) {
    if (opts.repo) {
      const dir = path.resolve(opts.repo);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--repo ${opts.repo}: no such directory`);
      this.repoDir = dir;
      this.inRepo = true;
    } else {
      const found = findRepoRoot(process.cwd());
      this.repoDir = found ?? process.cwd();
      this.inRepo = found !== null;
    }
    this.configFile = opts.config ? path.resolve(opts.config) : path.join(this.repoDir, 'cockpit.config.yaml');
    this.config = readConfig(this.configFile, !!opts.config);
  }

  /**
   * The whole workspace (every config section, checklist loading, the watch and approvers settings) over the same
   * repository and audit store: loaded when first needed (a run starts, a form opens), not at start-up.
   */
  full(): Promise<Workspace> {
    return (this.upgrade ??= import('./setup.js').then(({ Workspace }) => {
      const ws = new Workspace(this.opts, this.program);
      ws.shared = this.shared;
      return ws;
    }));
  }

  get repoChecklistsDir(): string {
    return path.resolve(this.repoDir, this.config.checklists ?? 'checklists');
  }

  /** Values of the env vars the config marks secret: redacted wherever they appear. */
  secretValues(): string[] {
    return (this.config.secrets?.env ?? []).map((name) => process.env[name]).filter((v): v is string => !!v);
  }

  /** A path from the config: `~/…` in the home folder, else relative to the repository. */
  protected configPath(p: string | undefined): string | undefined {
    if (!p) return undefined;
    return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : path.resolve(this.repoDir, p);
  }

  auditSigningKey(): string | undefined {
    return this.configPath(this.config.audit?.signingKey);
  }

  auditAllowedSigners(): string | undefined {
    return this.configPath(this.config.audit?.allowedSigners);
  }

  private defaultAuditFile(): string {
    return path.join(this.repoDir, '.cockpit', 'audit.db');
  }

  /** Where the audit log is: a SQLite file (default `.cockpit/audit.db` in the repo) or a PostgreSQL URL. */
  auditLocation(): { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string } {
    const [url, source] =
      this.opts.auditUrl !== undefined
        ? [this.opts.auditUrl, '--audit-url']
        : process.env.COCKPIT_AUDIT_URL
          ? [process.env.COCKPIT_AUDIT_URL, 'COCKPIT_AUDIT_URL']
          : [this.config.audit?.url, `audit.url in ${this.configFile}`];
    if (url === undefined) return { kind: 'sqlite', file: this.defaultAuditFile() };
    const where = parseAuditUrl(url, source);
    return where.kind === 'postgres' ? where : { kind: 'sqlite', file: path.resolve(this.repoDir, where.path) };
  }

  /**
   * A command for the operator to run later, runnable as printed from anywhere: `--repo` when the current directory
   * is not inside this repository, and the --config and --audit-url this command was given (core/command-line.ts).
   */
  command(args: string[]): string {
    const url = this.opts.auditUrl;
    const where = url === undefined ? undefined : parseAuditUrl(url, '--audit-url');
    return cockpitCommand(args, {
      program: this.program,
      repoDir: this.repoDir,
      elsewhere: (this.elsewhere ??= !isInside(process.cwd(), this.repoDir)),
      ...(this.opts.config ? { config: this.configFile } : {}),
      // A password is never printed: without it the client falls back to PGPASSWORD or ~/.pgpass.
      ...(where ? { auditUrl: where.kind === 'sqlite' ? path.resolve(this.repoDir, where.path) : withoutPassword(where.url) } : {}),
    });
  }

  /**
   * The audit store; `readOnly` for commands that only read it (they then work on a read-only file too, and create
   * nothing). A command that would create the default store outside a git repository, with no --repo, is refused:
   * it would make a new, empty log in whatever folder it was run in.
   */
  async openStore(opts: { readOnly?: boolean } = {}): Promise<AuditStore> {
    if (this.shared.store) return this.shared.store;
    const where = this.auditLocation();
    // (An audit log named with --audit-url, COCKPIT_AUDIT_URL or audit.url is where the operator said.)
    if (!opts.readOnly && !this.inRepo && where.kind === 'sqlite' && where.file === this.defaultAuditFile() && !existsSync(where.file))
      throw new UsageError(NO_REPO_REFUSAL);
    // pg is loaded only for a team store: at start-up it costs ~30 ms that a SQLite user would pay for nothing.
    // The stores are loaded when first opened: drizzle's code stays out of the home screen's static imports.
    const store =
      where.kind === 'postgres'
        ? await (await import('../audit/postgres.js')).PostgresAuditStore.open(where.url)
        : new (await import('../audit/sqlite.js')).SqliteAuditStore(where.file, { readOnly: opts.readOnly });
    store.addSecrets(this.secretValues());
    trackStore(store);
    return (this.shared.store = store);
  }

  /**
   * What the home screen reads the audit log with: the store when it is open already (a run opened it), else, for a
   * SQLite log that exists and needs no migration, a plain reader without drizzle (audit/sqlite-reader.ts), else the
   * store. Read-only use: everything that writes opens the store.
   */
  async openReader(): Promise<AuditReader> {
    if (this.shared.store) return this.shared.store;
    return (await this.lightReader()) ?? this.openStore();
  }

  /**
   * Open the plain reader now, ahead of the first read: the home screen does it while Ink loads (node waits for
   * files and yoga's WebAssembly then). It creates and changes nothing; a log it cannot read is left to the store.
   */
  prefetchReader(): void {
    void this.lightReader();
  }

  /**
   * The plain reader of a SQLite log that needs no migration (opened once, shared), or null where the store has to be
   * opened instead (PostgreSQL, a log to create or migrate, a damaged one): the plain first frame draws only then.
   */
  plainReader(): Promise<AuditReader | null> {
    return this.shared.store ? Promise.resolve(null) : this.lightReader();
  }

  private lightReader(): Promise<AuditReader | null> {
    return (this.shared.reader ??= (async () => {
      try {
        const where = this.auditLocation();
        if (where.kind !== 'sqlite') return null;
        const reader = (await import('../audit/sqlite-reader.js')).SqliteAuditReader.open(where.file);
        if (reader) trackStore(reader);
        return reader;
      } catch {
        // A bad audit URL, say: the store says so when it is opened.
        return null;
      }
    })());
  }

  async close(): Promise<void> {
    await this.shared.store?.close();
  }

  resolver(): ChecklistResolver {
    const dirs = [this.repoChecklistsDir, defaultChecklistsDir()].filter((d, i, all) => all.indexOf(d) === i);
    return {
      find: (id) => {
        for (const dir of dirs) {
          for (const ext of ['.yaml', '.yml']) {
            const file = path.join(dir, id + ext);
            // A link out of the folder, a FIFO, a device or a huge file is refused, saying what it is.
            const text = readConfigFile(file, dir, 'checklist');
            if (text !== null) return { id, file, text };
          }
        }
        return null;
      },
      describe: () => dirs.map((d) => path.relative(process.cwd(), d) || '.').join(', then '),
    };
  }

  /** Every checklist id visible here: the repo's first, then the defaults it does not override. */
  listChecklists(): Array<{ id: string; file: string; origin: 'repo' | 'default'; overrides: boolean }> {
    const out: Array<{ id: string; file: string; origin: 'repo' | 'default'; overrides: boolean }> = [];
    const scan = (dir: string) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => /\.ya?ml$/.test(f))
            .sort()
            .map((f) => ({ id: f.replace(/\.ya?ml$/, ''), file: path.join(dir, f) }))
        : [];
    const repo = this.repoChecklistsDir === defaultChecklistsDir() ? [] : scan(this.repoChecklistsDir);
    const defaults = scan(defaultChecklistsDir());
    const defaultIds = new Set(defaults.map((d) => d.id));
    for (const r of repo) out.push({ ...r, origin: 'repo', overrides: defaultIds.has(r.id) });
    const repoIds = new Set(repo.map((r) => r.id));
    for (const d of defaults) if (!repoIds.has(d.id)) out.push({ ...d, origin: 'default', overrides: false });
    return out;
  }

  /** A checklist file, read as given; its id for messages is the file's name. Null when there is no such file. */
  readChecklistFile(file: string): ChecklistSource | null {
    const abs = path.resolve(file);
    if (!existsSync(abs)) return null;
    // One of the repository's checklists (listed on home): read from inside its folder only. A path named on the
    // command line elsewhere is the operator's choice. Neither is read when it is a FIFO, a device or too large.
    const inRepoFolder = path.dirname(abs) === this.repoChecklistsDir;
    const text = readConfigFile(abs, inRepoFolder ? this.repoChecklistsDir : undefined, 'checklist');
    if (text === null) return null;
    return { id: path.basename(abs).replace(/\.ya?ml$/, ''), file: path.relative(process.cwd(), abs) || abs, text };
  }

  /** `<checklist>` on the command line: a path to a YAML file, or an id. */
  sourceFor(ref: string): { source: ChecklistSource; origin: { file: string; byId: boolean } } {
    const looksLikePath = ref.includes('/') || /\.ya?ml$/.test(ref);
    if (looksLikePath || (existsSync(ref) && statSync(ref).isFile())) {
      const source = this.readChecklistFile(ref);
      if (!source) throw new UsageError(`checklist file ${ref} does not exist`);
      return { source, origin: { file: path.resolve(ref), byId: false } };
    }
    const src = this.resolver().find(ref);
    if (!src) {
      const known = this.listChecklists().map((c) => c.id);
      throw new UsageError(`no checklist '${ref}' (looked in ${this.resolver().describe()}); known: ${known.join(', ')}`);
    }
    return { source: { ...src, file: path.relative(process.cwd(), src.file) || src.file }, origin: { file: src.id, byId: true } };
  }
}

/**
 * Every file the home screen's content comes from; null when it is not only files (a PostgreSQL audit log). The
 * `.git` markers are the ones that chose the repository (walking up from here), when --repo did not name it.
 */
export function homeInputs(ws: BaseWorkspace): Inputs | null {
  const where = ws.auditLocation();
  if (where.kind !== 'sqlite') return null;
  const files = [
    ws.configFile,
    localConfigFile(ws.configFile),
    where.file,
    `${where.file}-wal`,
    `${where.file}-journal`,
    ws.repoChecklistsDir,
    defaultChecklistsDir(),
  ];
  for (const c of ws.listChecklists()) files.push(c.file);
  if (!ws.opts.repo)
    for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
      const marker = path.join(dir, '.git');
      files.push(marker);
      if (dir === path.dirname(dir) || (dir === ws.repoDir && existsSync(marker))) break;
    }
  return signatures(files);
}
