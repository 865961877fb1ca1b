// Deterministic benchmark workspaces: generation (reused when a marker with identical parameters exists)
// and the deterministic edits the benchmark applies between snapshots. Every random choice comes from a
// seeded Prng, so the same parameters always produce byte-identical trees and edit sequences.

import * as fs from 'fs';
import * as path from 'path';
import { Prng } from './prng';
import { codeLine, jsonText, localNames, lockText, sourceText } from './textGen';

/** Bump when the generator's output changes, so stale workspaces on disk are regenerated. */
const generatorVersion = 1;

export interface WorkspaceParams {
  /** 'mixed': code + JSON/lock + binaries + one big file; 'small': small text files only. */
  kind: 'mixed' | 'small';
  files: number;
  /** Size of the one big random file (0 = none). */
  bigFileBytes: number;
  binaries: number;
  binaryMinBytes: number;
  binaryMaxBytes: number;
  jsonFiles: number;
  lockFiles: number;
  seed: string;
}

export interface WorkspaceManifest {
  params: WorkspaceParams;
  generatorVersion: number;
  fileCount: number;
  totalBytes: number;
  /** Relative path (forward slashes) of the big file, if any. */
  bigFile?: string;
  /** A mid-sized text file the benchmark restores alone; edits never delete it. */
  restoreOneFile: string;
  generatedInMs: number;
}

export function mixedParams(files: number, bigFileBytes: number, quick: boolean): WorkspaceParams {
  return {
    kind: 'mixed',
    files,
    bigFileBytes,
    // --quick keeps the binaries small so the whole pipeline runs in under a minute.
    binaries: quick ? 2 : 4,
    binaryMinBytes: quick ? 1 << 20 : 2 << 20,
    binaryMaxBytes: quick ? 2 << 20 : 8 << 20,
    jsonFiles: Math.max(3, Math.round(files / 400)),
    lockFiles: quick ? 1 : 3,
    seed: 'project-backup-bench',
  };
}

export function smallParams(files: number): WorkspaceParams {
  return {
    kind: 'small',
    files,
    bigFileBytes: 0,
    binaries: 0,
    binaryMinBytes: 0,
    binaryMaxBytes: 0,
    jsonFiles: 0,
    lockFiles: 0,
    seed: 'project-backup-bench-small',
  };
}

const folderWords = [
  'src',
  'lib',
  'components',
  'utils',
  'services',
  'models',
  'views',
  'api',
  'core',
  'tests',
  'helpers',
  'features',
  'hooks',
  'store',
  'config',
  'types',
  'assets',
  'docs',
  'scripts',
  'internal',
  'common',
  'shared',
];

/** Where each file goes: a random folder tree of depth <= 5 with 20-60 files per folder. */
function planFolders(rng: Prng, fileCount: number): string[] {
  const slots: string[] = [];
  const expandable: { rel: string; depth: number }[] = [{ rel: '', depth: 0 }];
  let folderCount = 0;
  let current = '';
  while (slots.length < fileCount) {
    const take = Math.min(rng.int(20, 60), fileCount - slots.length);
    for (let i = 0; i < take; i++) slots.push(current);
    const parent = rng.pick(expandable);
    const name = `${rng.pick(folderWords)}${++folderCount}`;
    current = parent.rel === '' ? name : `${parent.rel}/${name}`;
    if (parent.depth + 1 < 5) expandable.push({ rel: current, depth: parent.depth + 1 });
  }
  return slots;
}

type FileKind = 'small' | 'medium' | 'markdown' | 'json' | 'lock' | 'binary' | 'big';

function markerPath(root: string): string {
  return `${root}.marker.json`;
}

function sameParams(a: WorkspaceParams, b: WorkspaceParams): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Returns the manifest of the workspace at `root`, generating it first unless a marker with the same
 * parameters and generator version exists. The marker lives beside the folder (not inside) so the tools
 * never back it up, and it is written last, so an interrupted generation is redone.
 */
export function ensureWorkspace(root: string, params: WorkspaceParams, log: (line: string) => void): WorkspaceManifest {
  const marker = markerPath(root);
  if (fs.existsSync(marker) && fs.existsSync(root)) {
    try {
      const existing = JSON.parse(fs.readFileSync(marker, 'utf8')) as WorkspaceManifest;
      if (existing.generatorVersion === generatorVersion && sameParams(existing.params, params)) {
        log(`workspace ${root}: reusing (${existing.fileCount} files, ${formatMiB(existing.totalBytes)})`);
        return existing;
      }
    } catch {
      // An unreadable marker means an unknown state: regenerate below.
    }
  }
  fs.rmSync(marker, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
  log(`workspace ${root}: generating ${params.files} files...`);
  const started = performance.now();
  const manifest = generate(root, params, log);
  manifest.generatedInMs = performance.now() - started;
  fs.writeFileSync(marker, JSON.stringify(manifest, null, 2) + '\n');
  log(
    `workspace ${root}: ${manifest.fileCount} files, ${formatMiB(manifest.totalBytes)} in ${(manifest.generatedInMs / 1000).toFixed(1)} s`,
  );
  return manifest;
}

function generate(root: string, params: WorkspaceParams, log: (line: string) => void): WorkspaceManifest {
  const rng = new Prng(`${params.seed}:${params.files}`);
  const slots = planFolders(rng, params.files);

  // Special files take random slots; the rest are text. A shuffled index list makes the choice uniform.
  const kinds: FileKind[] = new Array<FileKind>(params.files);
  const order = Array.from({ length: params.files }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let next = 0;
  const assign = (kind: FileKind, count: number): void => {
    for (let i = 0; i < count && next < order.length; i++) kinds[order[next++]] = kind;
  };
  if (params.bigFileBytes > 0) assign('big', 1);
  assign('binary', params.binaries);
  assign('lock', params.lockFiles);
  assign('json', params.jsonFiles);
  for (; next < order.length; next++) {
    const r = rng.next();
    // 'small' workspaces (the 200,000-file one) hold only small text; 'mixed' ones have 5% larger sources.
    kinds[order[next]] =
      params.kind === 'small'
        ? r < 0.1
          ? 'markdown'
          : 'small'
        : r < 0.05
          ? 'medium'
          : r < 0.13
            ? 'markdown'
            : 'small';
  }

  let totalBytes = 0;
  let bigFile: string | undefined;
  let restoreOneFile: string | undefined;
  const made = new Set<string>();
  const usedNames = new Map<string, number>();
  const started = performance.now();
  let lastLog = started;
  for (let i = 0; i < params.files; i++) {
    const folder = slots[i];
    if (!made.has(folder)) {
      fs.mkdirSync(path.join(root, folder), { recursive: true });
      made.add(folder);
    }
    const kind = kinds[i];
    const n = (usedNames.get(folder) ?? 0) + 1;
    usedNames.set(folder, n);
    const base = localNames(rng, 1)[0].replace(/[0-9a-z]{3}$/, '') + n;
    let name: string;
    let content: Buffer | string;
    switch (kind) {
      case 'big':
        name = 'dataset.bin';
        content = Buffer.alloc(0); // written in slices below
        break;
      case 'binary':
        name = `${base}.bin`;
        content = rng.bytes(rng.int(params.binaryMinBytes, params.binaryMaxBytes));
        break;
      case 'lock':
        name = n === 1 ? 'package-lock.json' : `${base}.lock.json`;
        content = lockText(rng, rng.int(100_000, 500_000));
        break;
      case 'json':
        name = `${base}.json`;
        content = jsonText(rng, rng.logInt(300, 40_000));
        break;
      case 'medium':
        name = `${base}.ts`;
        content = sourceText(rng, rng.logInt(20_000, 200_000), 'code');
        break;
      case 'markdown':
        name = `${base}.md`;
        content = sourceText(rng, rng.logInt(200, params.kind === 'small' ? 8_000 : 20_000), 'markdown');
        break;
      default:
        name = rng.chance(0.75) ? `${base}.ts` : `${base}.js`;
        content = sourceText(rng, rng.logInt(200, params.kind === 'small' ? 8_000 : 20_000), 'code');
        break;
    }
    const rel = folder === '' ? name : `${folder}/${name}`;
    const abs = path.join(root, rel);
    if (kind === 'big') {
      // Write in 8 MiB slices so a 64 MiB file never needs one 64 MiB allocation.
      const fd = fs.openSync(abs, 'w');
      try {
        for (let written = 0; written < params.bigFileBytes;) {
          const slice = rng.bytes(Math.min(8 << 20, params.bigFileBytes - written));
          fs.writeSync(fd, slice);
          written += slice.length;
        }
      } finally {
        fs.closeSync(fd);
      }
      totalBytes += params.bigFileBytes;
      bigFile = rel;
    } else {
      fs.writeFileSync(abs, content);
      totalBytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    }
    if (restoreOneFile === undefined && kind === 'medium') restoreOneFile = rel;
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`  generated ${i + 1}/${params.files} files`);
    }
  }
  if (restoreOneFile === undefined) {
    // The small workspace has no medium files; any text file will do there.
    restoreOneFile = listFiles(root).find((f) => f.endsWith('.ts'));
  }
  return {
    params,
    generatorVersion,
    fileCount: params.files,
    totalBytes,
    bigFile,
    restoreOneFile: restoreOneFile ?? '',
    generatedInMs: 0,
  };
}

/** All regular files under root, relative with forward slashes, sorted (so derived choices are stable). */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else if (entry.isFile()) out.push(rel);
    }
  };
  walk(root, '');
  return out.sort();
}

const textExtensions = ['.ts', '.js', '.md'];

export interface RoundEdits {
  modified: number;
  added: number;
  deleted: number;
}

/**
 * Applies the benchmark's edits to a working copy. Choices depend only on the seed, the round number and
 * the current file list, so every run (and every tool within a run) sees the same sequence of states.
 */
export class WorkspaceEditor {
  private textFiles: string[];

  constructor(
    private readonly root: string,
    private readonly manifest: WorkspaceManifest,
  ) {
    this.textFiles = listFiles(root).filter((f) => textExtensions.includes(path.extname(f)));
  }

  /** Modifies ~1% of the workspace's files, and adds or deletes a file now and then. */
  editRound(round: number): RoundEdits {
    const rng = new Prng(`${this.manifest.params.seed}:round:${round}`);
    const want = Math.max(1, Math.round(this.manifest.fileCount * 0.01));
    const chosen = new Set<number>();
    while (chosen.size < Math.min(want, this.textFiles.length)) chosen.add(rng.int(0, this.textFiles.length - 1));
    for (const index of [...chosen].sort((a, b) => a - b)) {
      const abs = path.join(this.root, this.textFiles[index]);
      fs.writeFileSync(abs, modifyText(rng, fs.readFileSync(abs, 'utf8')));
    }
    let added = 0;
    let deleted = 0;
    if (rng.chance(0.7)) {
      const near = path.posix.dirname(rng.pick(this.textFiles));
      const rel = `${near === '.' ? '' : near + '/'}added${round}x${rng.int(0, 9999)}.ts`;
      fs.writeFileSync(path.join(this.root, rel), sourceText(rng, rng.logInt(200, 20_000), 'code'));
      this.textFiles.push(rel);
      this.textFiles.sort();
      added++;
    }
    if (rng.chance(0.4)) {
      const index = rng.int(0, this.textFiles.length - 1);
      const rel = this.textFiles[index];
      if (rel !== this.manifest.restoreOneFile) {
        fs.rmSync(path.join(this.root, rel));
        this.textFiles.splice(index, 1);
        deleted++;
      }
    }
    return { modified: chosen.size, added, deleted };
  }

  /** Overwrites 4 KiB in the middle of the big file (in place, not 4 KiB-aligned, as a database page might not be). */
  editBigFile(): { offset: number; length: number } {
    if (!this.manifest.bigFile) throw new Error('this workspace has no big file');
    const rng = new Prng(`${this.manifest.params.seed}:big-edit`);
    const offset = Math.floor(this.manifest.params.bigFileBytes / 2) + 1234;
    const fd = fs.openSync(path.join(this.root, this.manifest.bigFile), 'r+');
    try {
      fs.writeSync(fd, rng.bytes(4096), 0, 4096, offset);
    } finally {
      fs.closeSync(fd);
    }
    return { offset, length: 4096 };
  }

  /**
   * The edit before save number `index`: a one-line change to one of a handful of files, as a developer
   * editing a few files in turn would produce. Returns the relative path of the saved file.
   */
  saveEdit(index: number): string {
    const pool = this.savePool();
    const rng = new Prng(`${this.manifest.params.seed}:save:${index}`);
    const rel = pool[index % pool.length];
    const abs = path.join(this.root, rel);
    const lines = fs.readFileSync(abs, 'utf8').split('\n');
    const at = rng.int(0, Math.max(0, lines.length - 2));
    const line = codeLine(rng, localNames(rng, 2), 1) + ` // save ${index}`;
    if (rng.chance(0.5)) lines[at] = line;
    else lines.splice(at, 0, line);
    fs.writeFileSync(abs, lines.join('\n'));
    return rel;
  }

  private pool: string[] | undefined;

  private savePool(): string[] {
    if (!this.pool) {
      const rng = new Prng(`${this.manifest.params.seed}:save-pool`);
      const candidates = this.textFiles.filter((f) => f.endsWith('.ts'));
      this.pool = Array.from({ length: 8 }, () => rng.pick(candidates));
    }
    return this.pool;
  }
}

/** A small deterministic change to a text file: append, replace, insert or delete a few lines. */
function modifyText(rng: Prng, text: string): string {
  const lines = text.split('\n');
  const locals = localNames(rng, 3);
  const fresh = (count: number): string[] => Array.from({ length: count }, () => codeLine(rng, locals, rng.int(0, 3)));
  const at = rng.int(0, Math.max(0, lines.length - 1));
  switch (rng.int(0, 3)) {
    case 0:
      lines.push(...fresh(rng.int(1, 8)));
      break;
    case 1:
      lines.splice(at, rng.int(1, 3), ...fresh(rng.int(1, 3)));
      break;
    case 2:
      lines.splice(at, 0, ...fresh(rng.int(1, 5)));
      break;
    default:
      lines.splice(at, rng.int(1, 3));
      break;
  }
  const out = lines.join('\n');
  // Guarantee a real change: a deletion from a one-line file, or an identical replacement, is possible.
  return out === text ? out + `// edited ${rng.nextUint32()}\n` : out;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
