// Walks a workspace folder by folder under the exclude rules, never following symlinks and never entering
// an excluded folder. It reports what it sees (name, kind, stat) and what it had to skip, and reads no
// file content: deciding what to read is the snapshotter's job (with the stat cache).

import * as path from 'node:path';
import { errnoCode } from '../errors';
import { yieldIfBusy } from '../eventLoop';
import { TEMP_PREFIX, isTempName } from '../storage/atomic';
import type { FsPort } from '../storage/fsPort';
import type { GitignoreLayer, Rules } from './rules';
import { isGitPath, parseGitignore } from './rules';

export type EntryKind = 'file' | 'dir' | 'symlink';

/**
 * The parts of an lstat a snapshot uses. A Node 20 Stats object is about 840 bytes (four Date objects
 * made eagerly): a listing keeps this instead, so the Stats dies young while the listing may live as long
 * as its folder's walk. A Stats fits the shape too.
 */
export interface FileSig {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Type and permission bits, as st_mode. */
  mode: number;
}

export function sigOf(stat: FileSig): FileSig {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, mode: stat.mode };
}

/** Whether a signature is a regular file's (S_IFREG). */
export function isRegularFile(sig: FileSig): boolean {
  return (sig.mode & 0o170000) === 0o100000;
}

export interface ScannedEntry {
  name: string;
  relPath: string;
  kind: EntryKind;
  /** lstat of the entry (the parts a snapshot uses); absent for folders (not needed to snapshot them). */
  stat?: FileSig;
}

export interface Skip {
  path: string;
  reason: string;
}

export interface ScanOptions {
  rules: Rules;
  /** Files larger than this are skipped and reported; 0 or undefined means no limit. */
  maxFileSize?: number;
}

export interface DirListing {
  entries: ScannedEntry[];
  skipped: Skip[];
  /** The folder could not be listed (vanished or unreadable): `entries` is empty for that reason, not because it is. */
  unreadable?: boolean;
  /** The .gitignore layers in force inside this folder (its parents' plus its own). */
  layers: GitignoreLayer[];
}

export function joinRel(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

export class Scanner {
  constructor(
    private readonly root: string,
    private readonly options: ScanOptions,
    private readonly port: FsPort,
  ) {}

  absolute(relPath: string): string {
    // Plain concatenation: relPath comes from our own listing, and path.join's normalising showed up in
    // profiles at 100,000 files.
    if (!relPath) return this.root;
    return path.sep === '/' ? `${this.root}/${relPath}` : path.join(this.root, ...relPath.split('/'));
  }

  /** Reads the .gitignore of a folder into a layer, if rules ask for it and the file exists. */
  async gitignoreLayer(relDir: string): Promise<GitignoreLayer | undefined> {
    if (!this.options.rules.gitignore) return undefined;
    try {
      const text = (await this.port.readFile(path.join(this.absolute(relDir), '.gitignore'))).toString('utf8');
      return parseGitignore(relDir, text);
    } catch {
      return undefined;
    }
  }

  /** The .gitignore layers that apply to paths inside `relDir` (root first). */
  async layersFor(relDir: string): Promise<GitignoreLayer[]> {
    if (!this.options.rules.gitignore) return [];
    const layers: GitignoreLayer[] = [];
    const parts = relDir ? relDir.split('/') : [];
    for (let i = 0; i <= parts.length; i++) {
      const layer = await this.gitignoreLayer(parts.slice(0, i).join('/'));
      if (layer) layers.push(layer);
    }
    return layers;
  }

  /** The layers in force for `relDir`'s own listing, before its own .gitignore is added. */
  async layersAbove(relDir: string): Promise<GitignoreLayer[]> {
    if (!relDir) return [];
    const cut = relDir.lastIndexOf('/');
    return this.layersFor(cut < 0 ? '' : relDir.slice(0, cut));
  }

  /** Whether a path is excluded, checking every ancestor folder too (for on-save paths). */
  async isExcludedPath(relPath: string, isDir: boolean): Promise<boolean> {
    const parts = relPath.split('/');
    const rules = this.options.rules;
    for (let i = 0; i < parts.length; i++) {
      const rel = parts.slice(0, i + 1).join('/');
      if (rules.isExcludedAbsolute(this.absolute(rel))) return true;
      const dirOfRel = parts.slice(0, i).join('/');
      const layers = rules.gitignore ? await this.layersFor(dirOfRel) : [];
      if (rules.excluded(rel, parts[i], i < parts.length - 1 || isDir, layers)) return true;
    }
    return false;
  }

  /**
   * Lists one folder, sorted by name, applying the rules. A folder that vanished or cannot be read is
   * reported in `skipped` with an empty listing, so a walk always completes.
   */
  async list(relDir: string, parentLayers: readonly GitignoreLayer[]): Promise<DirListing> {
    // Listing and lstat are synchronous (faster than their promise forms at 100,000 files): let the event
    // loop turn between folders and within large ones, so a full scan never holds the editor.
    let turn = yieldIfBusy();
    if (turn) await turn;
    const abs = this.absolute(relDir);
    const skipped: Skip[] = [];
    let dirents;
    try {
      dirents = this.port.readdirSync(abs);
    } catch (error) {
      const code = errnoCode(error);
      skipped.push({
        path: relDir || '.',
        reason: code === 'ENOENT' ? 'folder vanished while being read' : `folder cannot be read (${code ?? 'error'})`,
      });
      return { entries: [], skipped, layers: [...parentLayers], unreadable: code !== 'ENOENT' };
    }
    const own = dirents.some((d) => d.name === '.gitignore') ? await this.gitignoreLayer(relDir) : undefined;
    const layers = own ? [...parentLayers, own] : [...parentLayers];
    const rules = this.options.rules;
    const max = this.options.maxFileSize ?? 0;
    const entries: ScannedEntry[] = [];
    for (const dirent of dirents) {
      turn = yieldIfBusy();
      if (turn) await turn;
      const name = dirent.name;
      // Our own temp files (a restore or mirror writing into this folder right now) are never content.
      if (name.startsWith(TEMP_PREFIX) && isTempName(name)) continue;
      const relPath = joinRel(relDir, name);
      let kind: EntryKind | undefined;
      if (dirent.isDirectory()) kind = 'dir';
      else if (dirent.isFile()) kind = 'file';
      else if (dirent.isSymbolicLink()) kind = 'symlink';
      if (!kind) {
        if (!rules.excluded(relPath, name, false, layers))
          skipped.push({ path: relPath, reason: 'not a regular file, folder or symlink' });
        continue;
      }
      if (rules.excluded(relPath, name, kind === 'dir', layers)) continue;
      if (kind === 'dir') {
        if (rules.isExcludedAbsolute(path.join(abs, name))) continue;
        entries.push({ name, relPath, kind });
        continue;
      }
      const stat = this.port.lstatSync(path.sep === '/' ? `${abs}/${name}` : path.join(abs, name));
      if (!stat) {
        skipped.push({ path: relPath, reason: 'deleted while being scanned' });
        continue;
      }
      // Never inside .git: a skipped pack file would break the repository (see Rules.includeGit).
      if (kind === 'file' && max > 0 && stat.size > max && !isGitPath(relPath)) {
        skipped.push({ path: relPath, reason: `larger than the maximum file size (${stat.size} > ${max} bytes)` });
        continue;
      }
      entries.push({ name, relPath, kind, stat: sigOf(stat) });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries, skipped, layers };
  }

  /** Every entry below the root, depth first; for callers that need the whole picture (restore --delete, tests). */
  async *walk(relDir = '', parentLayers?: readonly GitignoreLayer[]): AsyncGenerator<ScannedEntry> {
    const listing = await this.list(relDir, parentLayers ?? (await this.layersAbove(relDir)));
    for (const entry of listing.entries) {
      yield entry;
      if (entry.kind === 'dir') yield* this.walk(entry.relPath, listing.layers);
    }
  }
}
