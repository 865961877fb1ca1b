// Test fixtures: a small language for workspaces on disk (like restic's TestDir), seeded random data,
// a spying FsPort, store helpers and two ways of running the CLI (in process, and the built bundle).
// Everything here is deterministic: no Math.random, no clock-dependent decisions.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli';
import type { Io } from '../../../src/cli/context';
import { Repository } from '../../../src/core/repository/repository';
import type { OpenOptions } from '../../../src/core/repository/repository';
import type { SnapshotRecord, SnapshotStats } from '../../../src/core/repository/snapshotRecord';
import { Snapshotter } from '../../../src/core/snapshot/snapshotter';
import type { SnapshotterOptions } from '../../../src/core/snapshot/snapshotter';
import type { FsPort } from '../../../src/core/storage/fsPort';
import { nodeFs } from '../../../src/core/storage/fsPort';

export const KiB = 1024;
export const MiB = 1024 * KiB;

// ---- temp folders -------------------------------------------------------------------------------------

const TEMP_PREFIX = 'pb-test-';

/**
 * PB_SOAK=1 (`npm run test:soak`, which CI runs after `npm test`): long loops run their full count (more
 * random kills, every fault in every variant). The normal run proves the same properties with fewer rounds.
 */
export const SOAK = process.env.PB_SOAK === '1';

/** A fresh folder under os.tmpdir(); the caller removes it (see useTempDirs for automatic removal). */
export function makeTempDir(label = 'dir'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${label.replace(/[^a-zA-Z0-9_-]/g, '_')}-`));
}

/** Removes a folder tree, first making it writable again (tests may chmod folders to 000). */
export function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    const reopen = (p: string) => {
      const stat = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!stat?.isDirectory()) return;
      fs.chmodSync(p, 0o755);
      for (const name of fs.readdirSync(p)) reopen(path.join(p, name));
    };
    reopen(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface TempDirs {
  /** A new empty folder, removed after the current test. */
  make(label?: string): string;
  /** A path under a new temp folder that does not exist yet (for "created on first use"). */
  fresh(label?: string): string;
}

/** Call inside a `describe`: folders made in a test are removed after it, pass or fail. */
/** The stats of a record that changed nothing (records made by hand in tests). */
export function zeroStats(): SnapshotStats {
  return {
    files: 0,
    dirs: 0,
    symlinks: 0,
    bytes: 0,
    filesNew: 0,
    filesChanged: 0,
    filesDeleted: 0,
    bytesAdded: 0,
    dataAdded: 0,
    blobsAdded: 0,
    skipped: 0,
  };
}

export function useTempDirs(): TempDirs {
  const created: string[] = [];
  afterEach(() => {
    for (const dir of created.splice(0)) removeDir(dir);
  });
  return {
    make(label) {
      const dir = makeTempDir(label);
      created.push(dir);
      return dir;
    },
    fresh(label = 'fresh') {
      const dir = makeTempDir(label);
      created.push(dir);
      return path.join(dir, label);
    },
  };
}

// ---- tree specs -----------------------------------------------------------------------------------------

export interface SymlinkSpec {
  symlink: string;
}
export interface FileSpec {
  mode: number;
  content: string | Buffer;
}
export interface DirSpec {
  dir: true;
}
export type SpecValue = string | Buffer | SymlinkSpec | FileSpec | DirSpec;
/** Relative slash paths to what is there. Parent folders are implied. */
export type TreeSpec = Record<string, SpecValue>;

/** What readTree reports: every file with its permission bits and bytes, links with targets, empty folders. */
export type ReadValue = { mode: number; content: Buffer } | { symlink: string } | { dir: true };
export type ReadTree = Record<string, ReadValue>;

function isSymlinkSpec(v: SpecValue): v is SymlinkSpec {
  return typeof v === 'object' && !Buffer.isBuffer(v) && 'symlink' in v;
}
function isDirSpec(v: SpecValue): v is DirSpec {
  return typeof v === 'object' && !Buffer.isBuffer(v) && 'dir' in v;
}
function isFileSpec(v: SpecValue): v is FileSpec {
  return typeof v === 'object' && !Buffer.isBuffer(v) && 'content' in v;
}

function abs(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

/** Writes a spec under root (creating root). Files get exactly the given mode (0o644 by default), whatever the umask. */
export function writeTree(root: string, spec: TreeSpec): void {
  fs.mkdirSync(root, { recursive: true });
  for (const rel of Object.keys(spec).sort()) {
    const value = spec[rel];
    const file = abs(root, rel);
    if (isDirSpec(value)) {
      fs.mkdirSync(file, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (isSymlinkSpec(value)) {
      fs.rmSync(file, { force: true });
      fs.symlinkSync(value.symlink, file);
      continue;
    }
    const content = isFileSpec(value) ? value.content : value;
    const mode = isFileSpec(value) ? value.mode : 0o644;
    fs.writeFileSync(file, content);
    fs.chmodSync(file, mode);
  }
}

export interface ReadTreeOptions {
  /** Relative paths (files or folders) to leave out, e.g. a store living inside the workspace. */
  ignore?: readonly string[];
}

/** Reads a folder back into the ReadTree shape; never follows symlinks. */
export function readTree(root: string, options: ReadTreeOptions = {}): ReadTree {
  const ignore = new Set(options.ignore ?? []);
  const out: ReadTree = {};
  const walk = (dir: string, prefix: string) => {
    const names = fs.readdirSync(dir).sort();
    let listed = 0;
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name;
      if (ignore.has(rel)) continue;
      listed++;
      const file = path.join(dir, name);
      const stat = fs.lstatSync(file);
      if (stat.isSymbolicLink()) out[rel] = { symlink: fs.readlinkSync(file) };
      else if (stat.isDirectory()) walk(file, rel);
      else if (stat.isFile()) out[rel] = { mode: stat.mode & 0o7777, content: fs.readFileSync(file) };
      else throw new Error(`readTree: ${rel} is neither a file, a folder nor a symlink`);
    }
    if (listed === 0 && prefix) out[prefix] = { dir: true };
  };
  walk(root, '');
  return out;
}

/** The ReadTree a spec should read back as (empty-folder entries only where nothing lies below). */
export function expectedTree(spec: TreeSpec): ReadTree {
  const out: ReadTree = {};
  const keys = Object.keys(spec);
  for (const rel of keys) {
    const value = spec[rel];
    if (isDirSpec(value)) {
      if (!keys.some((other) => other.startsWith(`${rel}/`))) out[rel] = { dir: true };
    } else if (isSymlinkSpec(value)) out[rel] = { symlink: value.symlink };
    else if (isFileSpec(value)) out[rel] = { mode: value.mode, content: Buffer.from(value.content) };
    else out[rel] = { mode: 0o644, content: Buffer.from(value) };
  }
  return out;
}

/** Short, readable description of the differences between two ReadTrees (for assertion messages). */
export function describeTreeDiff(actual: ReadTree, expected: ReadTree): string {
  const lines: string[] = [];
  const all = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  const show = (v: ReadValue | undefined) =>
    !v
      ? 'absent'
      : 'dir' in v
        ? 'empty dir'
        : 'symlink' in v
          ? `symlink -> ${v.symlink}`
          : `file mode ${v.mode.toString(8)} ${v.content.length} bytes`;
  for (const rel of [...all].sort()) {
    const a = actual[rel];
    const e = expected[rel];
    if (
      a &&
      e &&
      JSON.stringify(show(a)) === JSON.stringify(show(e)) &&
      (!('content' in a) || !('content' in e) || a.content.equals(e.content))
    )
      continue;
    lines.push(
      `  ${JSON.stringify(rel)}: got ${show(a)}, expected ${show(e)}${a && e && 'content' in a && 'content' in e ? ' (content differs)' : ''}`,
    );
  }
  return lines.join('\n');
}

// ---- seeded data ----------------------------------------------------------------------------------------

/** xorshift32: deterministic, so a failing test reproduces exactly. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `size` incompressible bytes from a seed. */
export function seededBytes(size: number, seed: number): Buffer {
  const next = xorshift32(seed);
  const buf = Buffer.allocUnsafe(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) buf.writeUInt32LE(next(), i);
  for (; i < size; i++) buf[i] = next() & 0xff;
  return buf;
}

const WORDS = [
  'const',
  'let',
  'function',
  'return',
  'import',
  'export',
  'value',
  'index',
  'result',
  'await',
  'async',
  'string',
  'number',
  'if',
  'else',
  'for',
  'of',
  '=>',
  '{',
  '}',
  '(',
  ')',
  ';',
  'this',
  'new',
  'Map',
  'Set',
  'throw',
  'Error',
];

/** Source-like text of about `size` bytes: compresses well, like the code people back up. */
export function seededText(size: number, seed: number): string {
  const next = xorshift32(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const word = WORDS[next() % WORDS.length];
    const sep = next() % 9 === 0 ? '\n' : ' ';
    parts.push(word, sep);
    length += word.length + 1;
  }
  return parts.join('').slice(0, size);
}

// ---- the store ------------------------------------------------------------------------------------------

export function openRepo(dir: string, options: OpenOptions = {}): Promise<Repository> {
  return Repository.open(dir, { create: true, ...options });
}

/** A snapshotter that does not ask git (faster) unless the test says so. */
export function snapshotterFor(
  repo: Repository,
  workspace: string,
  options: Partial<SnapshotterOptions> = {},
): Snapshotter {
  return new Snapshotter(repo, { git: false, ...options, workspace });
}

/** Total bytes of the store's files, leaving out locks (and the disposable cache unless asked). */
export function storeBytes(repoDir: string, options: { kinds?: readonly string[] } = {}): number {
  const kinds = options.kinds ?? ['data', 'index', 'snapshots', 'config'];
  let total = 0;
  const walk = (p: string) => {
    const stat = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    else total += stat.size;
  };
  for (const kind of kinds) walk(path.join(repoDir, kind));
  return total;
}

/** The pack files of a store, with full paths. */
export function packFiles(repoDir: string): string[] {
  const out: string[] = [];
  const data = path.join(repoDir, 'data');
  for (const sub of fs.readdirSync(data))
    for (const name of fs.readdirSync(path.join(data, sub))) out.push(path.join(data, sub, name));
  return out;
}

/** Makes a store's chunk boundaries reproducible: rewrites the seed of a store that holds no data yet. */
export async function openRepoWithFixedChunkerSeed(
  dir: string,
  seed = '0123456789abcdef0123456789abcdef',
): Promise<Repository> {
  await Repository.open(dir, { create: true });
  const configFile = path.join(dir, 'config');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  config.chunker.seed = seed;
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  return Repository.open(dir);
}

/** Overwrites bytes of the pack that holds blob `id`, in the middle of its storage unit (a small blob shares a unit, a bundle, with others). */
export function damageBlob(repo: Repository, id: string): void {
  const at = repo.locate(id);
  if (!at) throw new Error(`damageBlob: ${id} is not in the index`);
  const file = path.join(repo.location, 'data', at.packId.slice(0, 2), at.packId);
  const fd = fs.openSync(file, 'r+');
  try {
    const start = at.offset + Math.floor(at.length / 2);
    const original = Buffer.alloc(Math.min(16, at.length - Math.floor(at.length / 2)));
    fs.readSync(fd, original, 0, original.length, start);
    const flipped = Buffer.from(original.map((b) => b ^ 0xff));
    fs.writeSync(fd, flipped, 0, flipped.length, start);
  } finally {
    fs.closeSync(fd);
  }
}

/** Sets a file's (or link's own) mtime and atime to `msAgo` before now. */
export function ageFile(file: string, msAgo: number, now = Date.now()): void {
  const when = new Date(now - msAgo);
  fs.lutimesSync(file, when, when);
}

/** Ages every file and link under root, so the stat cache may trust them. */
export function ageTree(root: string, msAgo = 3600_000): void {
  const now = Date.now();
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const stat = fs.lstatSync(p);
      if (stat.isDirectory()) walk(p);
      else ageFile(p, msAgo, now);
    }
  };
  walk(root);
}

// ---- a spying FsPort ------------------------------------------------------------------------------------

export interface FsCall {
  op: keyof FsPort;
  path: string;
}

export interface SpyPort extends FsPort {
  readonly calls: FsCall[];
  /** Calls of `ops` whose path is `under` or below it. */
  callsUnder(under: string, ...ops: Array<keyof FsPort>): FsCall[];
  reset(): void;
}

/**
 * Wraps a port and records every call with its (first) path. `overrides` replace single methods; they get
 * the wrapped port as `base`, so a fault can still reach the real file system.
 */
export function spyPort(
  overrides: Partial<{
    [K in keyof FsPort]: (base: FsPort, ...args: Parameters<FsPort[K]>) => ReturnType<FsPort[K]>;
  }> = {},
  base: FsPort = nodeFs,
): SpyPort {
  const calls: FsCall[] = [];
  const port = {} as Record<string, unknown>;
  for (const key of Object.keys(base) as Array<keyof FsPort>) {
    const override = overrides[key] as ((b: FsPort, ...args: unknown[]) => unknown) | undefined;
    const original = base[key] as (...args: unknown[]) => unknown;
    port[key] = (...args: unknown[]) => {
      calls.push({ op: key, path: String(args[0]) });
      return override ? override(base, ...args) : original.apply(base, args);
    };
  }
  const spy = port as unknown as SpyPort;
  Object.defineProperty(spy, 'calls', { value: calls });
  spy.callsUnder = (under, ...ops) =>
    calls.filter(
      (c) => (ops.length === 0 || ops.includes(c.op)) && (c.path === under || c.path.startsWith(under + path.sep)),
    );
  spy.reset = () => {
    calls.length = 0;
  };
  return spy;
}

/** Reads of file content under `dir`: readFile, readFileSync (small files), or open (the chunked path). */
export function contentReadsUnder(spy: SpyPort, dir: string): string[] {
  const reads = ['readFile', 'readFileSync', 'open'];
  return spy
    .callsUnder(dir)
    .filter((c) => reads.includes(c.op))
    .map((c) => c.path)
    .filter((p) => path.basename(p) !== '.gitignore');
}

// ---- git ------------------------------------------------------------------------------------------------

export function git(dir: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim();
}

// ---- the CLI --------------------------------------------------------------------------------------------

export interface CliRun {
  code: number;
  /** Lines printed with io.out. */
  stdout: string[];
  /** Lines printed with io.err. */
  stderr: string[];
  /** Bytes written with io.write (cat). */
  raw: Buffer;
  /** stdout parsed as one JSON value. */
  json<T = unknown>(): T;
}

/** Runs the CLI in this process with a captured Io; `env` replaces the environment entirely. */
export async function runCliCaptured(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  signal?: AbortSignal,
): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const raw: Buffer[] = [];
  const io: Io = {
    out: (text) => stdout.push(...text.split('\n')),
    err: (text) => stderr.push(...text.split('\n')),
    write: async (data) => {
      raw.push(Buffer.from(data));
    },
    env,
  };
  const code = await runCli(argv, io, signal);
  return {
    code,
    stdout,
    stderr,
    raw: Buffer.concat(raw),
    json<T>() {
      return JSON.parse(stdout.join('\n')) as T;
    },
  };
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const DIST_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface SpawnedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/cli.js) in a child process. */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}): SpawnedRun {
  const base = { ...process.env };
  delete base.PROJECT_BACKUP_REPO;
  delete base.PROJECT_BACKUP_DEBUG;
  const result = spawnSync(process.execPath, [DIST_CLI, ...argv], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The lines of a text without the trailing empty one. */
export function lines(text: string): string[] {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

// ---- small helpers --------------------------------------------------------------------------------------

export type { SnapshotRecord };

/** Runs `fn` and returns the BackupError code it rejects with (fails the test when it resolves). */
export async function rejectionCode(fn: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : '(none)', message: (error as Error).message };
  }
  throw new Error('expected a rejection, but the call succeeded');
}

// ---- forged store content (hostile trees) ------------------------------------------------------------------

/**
 * Saves a snapshot record naming `tree` as its root, as a hostile or damaged store might hold. The id is
 * derived from the tree, so a test is reproducible.
 */
export async function forgeSnapshot(
  repo: Repository,
  tree: string,
  workspace = '/nonexistent/forged',
): Promise<SnapshotRecord> {
  const record: SnapshotRecord = {
    v: 1,
    id: tree.slice(0, 32),
    time: new Date('2031-01-01T00:00:00.000Z').toISOString(),
    workspace: { path: workspace, id: 'forged0000000000' },
    host: 'forger',
    trigger: 'manual',
    tree,
    stats: zeroStats(),
    tool: 'forger',
  };
  await repo.saveSnapshot(record);
  return record;
}

/** Every path under root (files, links, folders), relative, sorted: for "nothing was written here" checks. */
export function listAll(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const rel = prefix ? `${prefix}/${name}` : name;
      out.push(rel);
      const stat = fs.lstatSync(path.join(dir, name));
      if (stat.isDirectory()) walk(path.join(dir, name), rel);
    }
  };
  walk(root, '');
  return out;
}

/**
 * Counts turns of the event loop (a setImmediate that arms itself again) until `stop`: work that never lets
 * the loop turn leaves `turns()` where it was.
 */
export function turnCounter(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  return { turns: () => turns, stop: () => (running = false) };
}
