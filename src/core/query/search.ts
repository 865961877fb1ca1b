// Searching history: which paths ever matched a glob (deleted files included, since older snapshots hold
// them) and which stored text contains a string, across every snapshot given.
// Invariants: read-only; each distinct (tree, path) is visited once however many snapshots share it, and
// each distinct file content is read at most once, so the cost follows what changed, not snapshots × files.

import { Minimatch } from 'minimatch';
import { BackupError, isBackupError } from '../errors';
import { yieldEvery, yieldIfBusy } from '../eventLoop';
import { Limiter } from '../limiter';
import { compareSnapshots } from '../repository/repository';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { FileEntry, SymlinkEntry, Tree } from '../repository/tree';
import { MAX_TREE_DEPTH, tooDeep } from '../repository/tree';

/** What search reads of a store (#13): trees and file contents, nothing else; it takes no lock and writes nothing. */
export type SearchRepo = Pick<Repository, 'loadTree' | 'loadBlob'>;

export interface SearchOptions {
  signal?: AbortSignal;
  /** A tree or content that cannot be read (missing, damaged); the search goes on without it. */
  onProblem?: (path: string, reason: string) => void;
}

export interface PathMatch {
  path: string;
  /** The entry as one of `snapshots` holds it (they all hold this content; permission bits may differ). */
  entry: FileEntry | SymlinkEntry;
  /** The snapshots that hold this path with this content, newest first. */
  snapshots: SnapshotRecord[];
}

export interface GrepOptions extends SearchOptions {
  ignoreCase?: boolean;
  /** Stop after this many matches (the newest ones are kept). */
  maxResults?: number;
  /** Files larger than this are not searched (default 4 MiB). */
  maxFileSize?: number;
}

export interface GrepMatch {
  path: string;
  /** 1-based. */
  line: number;
  /** The line, without its line break; a very long line is cut around the match. */
  text: string;
  /** The snapshots that hold this path with this content, newest first. */
  snapshots: SnapshotRecord[];
}

export interface GrepResult {
  /** Newest first (by the newest snapshot holding the match), then by path and line. */
  matches: GrepMatch[];
  /** maxResults cut the search short. */
  truncated: boolean;
  /** Distinct contents read: each at most once, whatever the number of snapshots and paths holding it. */
  contentsRead: number;
  /** Distinct contents left out because they are binary (a NUL byte early on, as git decides) or too large. */
  binarySkipped: number;
  largeSkipped: number;
}

export const GREP_MAX_FILE_SIZE = 4 * 1024 * 1024;
/** Git's rule: a NUL byte in the first 8000 bytes makes a file binary. */
const BINARY_PROBE = 8000;
const MAX_LINE = 400;

// ---- the shared walk ---------------------------------------------------------------------------------------

/** A set of snapshots as bits over their index in the oldest-first list. */
type Bits = Uint32Array;

/**
 * Bit sets cut from shared slabs: a Uint32Array of its own per file brought an ArrayBuffer object with it,
 * 37 MB of the 162 MB a content search held at 200,000 files (and every major GC marks all of it, #16).
 */
function bitsAllocator(words: number): () => Bits {
  const perSlab = Math.max(1, Math.floor(16_384 / words));
  let slab = new Uint32Array(0);
  let used = perSlab;
  return () => {
    if (used === perSlab) {
      slab = new Uint32Array(perSlab * words);
      used = 0;
    }
    return slab.subarray(used * words, ++used * words);
  };
}

function orInto(target: Bits, source: Bits): void {
  for (let i = 0; i < target.length; i++) target[i] |= source[i];
}

function highestBit(bits: Bits): number {
  for (let w = bits.length - 1; w >= 0; w--) if (bits[w]) return w * 32 + 31 - Math.clz32(bits[w]);
  return -1;
}

/** The snapshots of a set, newest first. */
function membersOf(bits: Bits, ordered: readonly SnapshotRecord[]): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  for (let i = highestBit(bits); i >= 0; i--) if (bits[i >>> 5] & (1 << (i & 31))) out.push(ordered[i]);
  return out;
}

interface Node {
  tree: string;
  path: string;
  bits: Bits;
  /** Carried down for the caller (find: a folder on the way matched the glob). */
  mark: boolean;
}

interface Group {
  path: string;
  entry: FileEntry | SymlinkEntry;
  bits: Bits;
}

function leafKey(entry: FileEntry | SymlinkEntry): string {
  return entry.type === 'file' ? entry.content.join(',') : `l:${entry.target}`;
}

/** Distinct, oldest first: bit i of a set is `ordered[i]`. */
function ordered(snapshots: readonly SnapshotRecord[]): SnapshotRecord[] {
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  return [...byId.values()].sort(compareSnapshots);
}

/**
 * Walks the trees of all snapshots at once, level by level. A (tree, path) node is visited once, carrying
 * the set of snapshots that reach it (every parent of a node sits one level up, so its set is complete
 * before it is visited). Returns one group per distinct (path, content) of the leaves `keep` accepts.
 */
async function collect(
  repo: SearchRepo,
  snapshots: readonly SnapshotRecord[],
  options: SearchOptions,
  markDir: (path: string, name: string) => boolean,
  keep: (path: string, name: string, entry: FileEntry | SymlinkEntry, marked: boolean) => boolean,
): Promise<Map<string, Group>> {
  const words = Math.max(1, Math.ceil(snapshots.length / 32));
  const newBits = bitsAllocator(words);
  const groups = new Map<string, Group>();
  const limiter = new Limiter(16);
  let level = new Map<string, Node>();
  snapshots.forEach((s, i) => {
    let node = level.get(s.tree);
    if (!node) level.set(s.tree, (node = { tree: s.tree, path: '', bits: newBits(), mark: false }));
    node.bits[i >>> 5] |= 1 << (i & 31);
  });
  for (let depth = 0; level.size > 0; depth++) {
    if (options.signal?.aborted) throw new BackupError('CANCELLED', 'The search was cancelled.');
    const nodes = [...level.values()];
    const trees = await Promise.all(
      nodes.map((node) =>
        limiter.run(async (): Promise<Tree | undefined> => {
          try {
            return await repo.loadTree(node.tree);
          } catch (error) {
            if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
            options.onProblem?.(node.path || '.', error.message);
            return undefined;
          }
        }),
      ),
    );
    const next = new Map<string, Node>();
    for (let n = 0; n < nodes.length; n++) {
      // A level of a wide snapshot is thousands of folders: let the editor's loop turn between them (#16).
      const turn = yieldIfBusy();
      if (turn) await turn;
      const node = nodes[n];
      const tree = trees[n];
      if (!tree) continue;
      if (depth >= MAX_TREE_DEPTH && tree.entries.length > 0) {
        const deep = snapshots[highestBit(node.bits)];
        throw tooDeep(`Snapshot ${deep.id.slice(0, 8)}`, { snapshot: deep.id });
      }
      for (const entry of tree.entries) {
        const path = node.path ? `${node.path}/${entry.name}` : entry.name;
        if (entry.type === 'dir') {
          const key = `${entry.tree}\0${path}`;
          let child = next.get(key);
          if (!child)
            next.set(
              key,
              (child = {
                tree: entry.tree,
                path,
                bits: newBits(),
                mark: node.mark || markDir(path, entry.name),
              }),
            );
          orInto(child.bits, node.bits);
          continue;
        }
        if (!keep(path, entry.name, entry, node.mark)) continue;
        const key = `${path}\0${leafKey(entry)}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { path, entry, bits: newBits() }));
        orInto(group.bits, node.bits);
      }
    }
    level = next;
  }
  return groups;
}

// ---- find ---------------------------------------------------------------------------------------------------

function compileGlob(glob: string): RegExp {
  const pattern = glob.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  const re = pattern ? new Minimatch(pattern, { dot: true, nocomment: true, nonegate: true }).makeRe() : false;
  if (!re)
    throw new BackupError(
      'USAGE',
      `"${glob}" is not a usable glob; try a name such as "*.ts" or a path such as "src/**/util*".`,
      { glob },
    );
  return re;
}

/**
 * Every file and symlink whose path or name matches the minimatch glob, or that lies in a folder whose path
 * or name does, in any of `snapshots`: one result per distinct (path, content) with the snapshots that hold
 * it, newest first (results are ordered by their newest snapshot, then by path). Throws USAGE for a glob
 * that cannot be compiled, CANCELLED when the signal fires.
 */
export async function findPaths(
  repo: SearchRepo,
  snapshots: readonly SnapshotRecord[],
  glob: string,
  options: SearchOptions = {},
): Promise<PathMatch[]> {
  const re = compileGlob(glob);
  const matches = (path: string, name: string) => re.test(path) || re.test(name);
  const list = ordered(snapshots);
  const groups = await collect(
    repo,
    list,
    options,
    matches,
    (path, name, _entry, marked) => marked || matches(path, name),
  );
  return sortGroups([...groups.values()]).map((g) => ({
    path: g.path,
    entry: g.entry,
    snapshots: membersOf(g.bits, list),
  }));
}

function sortGroups<T extends { path: string; bits: Bits }>(groups: T[]): T[] {
  const newest = new Map(groups.map((g) => [g, highestBit(g.bits)]));
  return groups.sort(
    (a, b) => (newest.get(b) ?? 0) - (newest.get(a) ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

// ---- grep ---------------------------------------------------------------------------------------------------

interface Content {
  ids: readonly string[];
  size: number;
  groups: Group[];
  newest: number;
}

interface Found {
  path: string;
  line: number;
  text: string;
  bits: Bits;
  newest: number;
}

/**
 * Lines containing `text` in every stored version of every text file of `snapshots`. Trees are walked
 * once per distinct (tree, path); the files are grouped by content, and each distinct content is read once
 * (binary ones only up to the first chunk, too large ones not at all). Throws USAGE for empty text,
 * CANCELLED when the signal fires.
 */
export async function grepContent(
  repo: SearchRepo,
  snapshots: readonly SnapshotRecord[],
  text: string,
  options: GrepOptions = {},
): Promise<GrepResult> {
  if (text.length === 0) throw new BackupError('USAGE', 'Give the text to search for.');
  const maxSize = options.maxFileSize ?? GREP_MAX_FILE_SIZE;
  const max = options.maxResults ?? Infinity;
  const list = ordered(snapshots);
  const groups = await collect(
    repo,
    list,
    options,
    () => false,
    (_path, _name, entry) => entry.type === 'file' && entry.size > 0,
  );

  const contents = new Map<string, Content>();
  let grouped = 0;
  for (const group of groups.values()) {
    // 200,000 files are 200,000 groups: let the editor's loop turn while they are grouped by content (#16).
    const turn = yieldEvery(++grouped);
    if (turn) await turn;
    const entry = group.entry as FileEntry;
    const key = entry.content.join(',');
    let content = contents.get(key);
    if (!content) contents.set(key, (content = { ids: entry.content, size: entry.size, groups: [], newest: -1 }));
    content.groups.push(group);
    content.newest = Math.max(content.newest, highestBit(group.bits));
  }
  // The contents hold every group now: the keys (a path and content ids each) need not outlive this.
  groups.clear();
  // Newest contents first, so maxResults keeps the newest matches and can stop reading early.
  // By bucket, not sort: a stable sort of 200,000 contents is one block of the loop, the buckets are not.
  const byNewest: Content[][] = Array.from({ length: list.length + 1 }, () => []);
  let queued = 0;
  for (const content of contents.values()) {
    byNewest[content.newest + 1].push(content);
    const turn = yieldEvery(++queued);
    if (turn) await turn;
  }
  const queue: Content[] = [];
  for (let newest = byNewest.length - 1; newest >= 0; newest--) for (const c of byNewest[newest]) queue.push(c);

  const result: GrepResult = { matches: [], truncated: false, contentsRead: 0, binarySkipped: 0, largeSkipped: 0 };
  const found: Found[] = [];
  const needle = options.ignoreCase ? text.toLowerCase() : text;
  const needleBytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < queue.length; i++) {
    if (options.signal?.aborted) throw new BackupError('CANCELLED', 'The search was cancelled.');
    // A cached bundle's blobs come back on microtasks alone: without this the loop read on for 290 ms
    // at 200,000 small files and no timer, message or other extension ran meanwhile (#16).
    const turn = yieldIfBusy();
    if (turn) await turn;
    const content = queue[i];
    if (content.size > maxSize) {
      result.largeSkipped++;
      continue;
    }
    const data = await readText(repo, content, options);
    if (data === 'binary') result.binarySkipped++;
    if (data !== undefined) result.contentsRead++;
    if (data === undefined || data === 'binary') continue;
    // Cheap rejection before any decoding: most contents do not contain the text at all.
    if (!options.ignoreCase && data.indexOf(needleBytes) < 0) continue;
    const lines = data.toString('utf8').split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
      const at = (options.ignoreCase ? line.toLowerCase() : line).indexOf(needle);
      if (at < 0) continue;
      const shown = excerpt(line, at, needle.length);
      for (const group of content.groups)
        found.push({ path: group.path, line: n + 1, text: shown, bits: group.bits, newest: highestBit(group.bits) });
    }
    if (found.length >= max) {
      // Every content still queued is held by no snapshot newer than the next one's newest: matches newer
      // than that are final, and when there are enough of them the rest cannot make the cut.
      const bar = queue[i + 1]?.newest ?? -1;
      if (found.filter((f) => f.newest > bar).length >= max) {
        result.truncated = i + 1 < queue.length || found.length > max;
        break;
      }
    }
  }
  found.sort((a, b) => b.newest - a.newest || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
  if (found.length > max) result.truncated = true;
  result.matches = found
    .slice(0, max)
    .map((f) => ({ path: f.path, line: f.line, text: f.text, snapshots: membersOf(f.bits, list) }));
  return result;
}

/** A content's bytes, 'binary' (then only its first chunk was read) or undefined when it cannot be read. */
async function readText(
  repo: SearchRepo,
  content: Content,
  options: GrepOptions,
): Promise<Buffer | 'binary' | undefined> {
  const chunks: Buffer[] = [];
  try {
    for (const id of content.ids) {
      const chunk = await repo.loadBlob(id);
      if (chunks.length === 0 && chunk.subarray(0, BINARY_PROBE).includes(0)) return 'binary';
      chunks.push(chunk);
    }
  } catch (error) {
    if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
    options.onProblem?.(content.groups[0].path, error.message);
    return undefined;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function excerpt(line: string, at: number, length: number): string {
  if (line.length <= MAX_LINE) return line;
  const start = Math.max(0, Math.min(at - Math.floor((MAX_LINE - length) / 2), line.length - MAX_LINE));
  return `${start > 0 ? '…' : ''}${line.slice(start, start + MAX_LINE)}${start + MAX_LINE < line.length ? '…' : ''}`;
}
