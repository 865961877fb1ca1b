// Tree objects: one directory's entries, sorted by name, content-addressed like file data.
// Invariant: encoding is canonical (same entries, same bytes, same id), so an unchanged folder keeps its
// id and a snapshot that changes one file rewrites only the trees on that file's path.

import { BackupError } from '../errors';
import { ID_PATTERN } from './codec';

export interface FileEntry {
  type: 'file';
  name: string;
  /** Permission bits (e.g. 0o644, 0o755). */
  mode: number;
  size: number;
  /** Ids of the data blobs whose concatenation is the file's content. */
  content: string[];
}

export interface DirEntry {
  type: 'dir';
  name: string;
  tree: string;
}

export interface SymlinkEntry {
  type: 'symlink';
  name: string;
  target: string;
}

export type TreeEntry = FileEntry | DirEntry | SymlinkEntry;

export interface Tree {
  entries: TreeEntry[];
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A tree of exactly the fields that are stored, sorted by name: what decodeTree gives back for its bytes. */
export function canonicalTree(entries: readonly TreeEntry[]): Tree {
  const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name));
  return {
    entries: sorted.map((entry): TreeEntry => {
      switch (entry.type) {
        case 'file':
          return { type: 'file', name: entry.name, mode: entry.mode, size: entry.size, content: entry.content };
        case 'dir':
          return { type: 'dir', name: entry.name, tree: entry.tree };
        case 'symlink':
          return { type: 'symlink', name: entry.name, target: entry.target };
      }
    }),
  };
}

/** The stored bytes of a canonical tree (see canonicalTree). */
export function canonicalBytes(tree: Tree): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, entries: tree.entries }), 'utf8');
}

/** Canonical bytes of a tree. Entries are sorted here, so callers may pass them in any order. */
export function encodeTree(entries: readonly TreeEntry[]): Buffer {
  return canonicalBytes(canonicalTree(entries));
}

/**
 * Parses and validates a tree. Names are checked for shape only (a string, unique, sorted); whether a name
 * is safe to write to disk is the restorer's decision, so a hostile tree can still be listed and reported.
 */
export function decodeTree(data: Buffer, what: string): Tree {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw damaged('is not a valid tree');
  }
  if (!isRecord(parsed) || parsed.v !== 1 || !Array.isArray(parsed.entries)) throw damaged('is not a valid tree');
  const entries: TreeEntry[] = [];
  let previous: string | undefined;
  for (const raw of parsed.entries as unknown[]) {
    if (!isRecord(raw) || typeof raw.name !== 'string') throw damaged('has an entry without a name');
    const name = raw.name;
    if (previous !== undefined && compareNames(previous, name) >= 0) throw damaged('has unsorted or repeated names');
    previous = name;
    switch (raw.type) {
      case 'file': {
        const { mode, size, content } = raw;
        if (
          !isUint(mode) ||
          !isUint(size) ||
          !Array.isArray(content) ||
          !content.every((id) => typeof id === 'string' && ID_PATTERN.test(id))
        ) {
          throw damaged(`has a malformed file entry "${name}"`);
        }
        entries.push({ type: 'file', name, mode, size, content: content as string[] });
        break;
      }
      case 'dir':
        if (typeof raw.tree !== 'string' || !ID_PATTERN.test(raw.tree))
          throw damaged(`has a malformed folder entry "${name}"`);
        entries.push({ type: 'dir', name, tree: raw.tree });
        break;
      case 'symlink':
        if (typeof raw.target !== 'string') throw damaged(`has a malformed symlink entry "${name}"`);
        entries.push({ type: 'symlink', name, target: raw.target });
        break;
      default:
        throw damaged(`has an entry "${name}" of unknown type`);
    }
  }
  return { entries };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function findEntry(tree: Tree, name: string): TreeEntry | undefined {
  // Entries are sorted: binary search keeps lookups in big folders cheap on the on-save path.
  let lo = 0;
  let hi = tree.entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareNames(tree.entries[mid].name, name);
    if (cmp === 0) return tree.entries[mid];
    if (cmp < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Whether `entries` are exactly the tree's entries (order aside). */
export function sameEntries(tree: Tree, entries: readonly TreeEntry[]): boolean {
  if (tree.entries.length !== entries.length) return false;
  for (const entry of entries) {
    const old = findEntry(tree, entry.name);
    if (!old || JSON.stringify(old) !== JSON.stringify(entry)) return false;
  }
  return true;
}

/**
 * The deepest entry path a snapshot may hold, in components. PATH_MAX is 4096 bytes on Linux (1024 on macOS),
 * and a path of 4096 bytes holds at most 2048 one-character names ("a/" each): no file system can hold a
 * deeper tree, so only a crafted or damaged store has one. Every tree walk refuses beyond it, which also
 * bounds what a walk keeps per level.
 */
export const MAX_TREE_DEPTH = 2048;

/** The one sentence for a tree deeper than MAX_TREE_DEPTH; `snapshot` names it ("Snapshot 1a2b3c4d"). */
export function tooDeep(snapshot: string, data: Record<string, unknown> = {}): BackupError {
  return new BackupError(
    'UNSAFE_PATH',
    `${snapshot} holds folders nested more than ${MAX_TREE_DEPTH} levels deep, deeper than any file system allows: the store is damaged or crafted, and the snapshot is refused.`,
    { ...data, maxDepth: MAX_TREE_DEPTH },
  );
}
