// Snapshot records: the commit point of a snapshot. A record names a complete root tree (restore never
// needs a chain of increments) plus who, when, why and what changed.
// Invariant: a record is written only after every blob and index it depends on is durable.

import { createHash } from 'node:crypto';
import { BackupError } from '../errors';
import { ID_PATTERN } from './codec';
import { isRecord } from './tree';

/**
 * Why a snapshot was taken. `restore`: the workspace just after the editor restored into it (the state before
 * is a `pre-restore`). `api`: a checkpoint another extension took through the editor's API (vscode/publicApi.ts).
 */
export type Trigger =
  'manual' | 'save' | 'external' | 'schedule' | 'pre-restore' | 'restore' | 'startup' | 'cli' | 'api';

export interface SnapshotStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Total size of the files in the snapshot. */
  bytes: number;
  filesNew: number;
  filesChanged: number;
  filesDeleted: number;
  /** Bytes the store grew by (packs and index written by this snapshot). */
  bytesAdded: number;
  /** Plaintext bytes of the new blobs. */
  dataAdded: number;
  blobsAdded: number;
  skipped: number;
}

export interface SnapshotRules {
  excludes?: string[];
  includes?: string[];
  gitignore?: true;
}

export interface SkippedPath {
  path: string;
  reason: string;
}

export interface SnapshotRecord {
  v: 1;
  id: string;
  time: string;
  workspace: { path: string; id: string };
  host: string;
  trigger: Trigger;
  label?: string;
  /**
   * The label was given by Project Backup to a notable moment ("before switching to main", "before 48 files
   * deleted outside the editor"), not typed by a user: retention keeps it for a set time (policy.ts
   * AUTO_LABEL_KEEP_MS), not forever. A label the user sets clears it.
   */
  autoLabel?: true;
  pinned?: boolean;
  parent?: string;
  tree: string;
  stats: SnapshotStats;
  /** The first few paths left out of this snapshot and why (too large, unreadable, kept changing). */
  skipped?: SkippedPath[];
  /**
   * The workspace as a git repository, when it is one: branch and HEAD, and what identifies the project
   * across moves and clones: the origin remote's URL (credentials stripped) and the root commit.
   */
  git?: { branch?: string; head?: string; remote?: string; rootCommit?: string };
  /** The `paths` of an incremental snapshot, when it was one (capped). */
  paths?: string[];
  /**
   * The exclude rules the snapshot was taken with, when they are not the defaults (absent: the defaults).
   * A restore with deletions leaves what they exclude alone, whichever front restores (#13): the CLI knows
   * nothing of the editor's settings, and `node_modules` or a user's excluded `data/` must never be deleted
   * because the snapshot does not hold them.
   */
  rules?: SnapshotRules;
  tool: string;
}

export const SNAPSHOT_ID_PATTERN = /^[0-9a-f]{32}$/;

export function snapshotKey(id: string): string {
  return `snapshots/${id}`;
}

/**
 * Records carry `checksum`: the SHA-256 of the record's JSON without it, so a plain store's records are
 * verifiable like every other object (an encrypted store's are authenticated by the cipher as well). Labels
 * and pins rewrite a record through here, which recomputes it. Records written before checksums have none:
 * they still read, and verify lists them as not checksummed; the next rewrite adds one.
 */
function checksumOf(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

const unchecked = new WeakSet<SnapshotRecord>();

/** Whether a decoded record was written before records carried a checksum (so nothing vouches for its bytes). */
export function isUnchecksummed(record: SnapshotRecord): boolean {
  return unchecked.has(record);
}

export function encodeSnapshot(record: SnapshotRecord): Buffer {
  const { checksum: _old, ...rest } = record as SnapshotRecord & { checksum?: unknown };
  const body = JSON.stringify(rest);
  return Buffer.from(JSON.stringify({ ...rest, checksum: checksumOf(body) }), 'utf8');
}

/** Every field a record has ever carried, checksum aside (see SnapshotRecord). */
const RECORD_FIELDS = new Set([
  'v',
  'id',
  'time',
  'workspace',
  'host',
  'trigger',
  'label',
  'autoLabel',
  'pinned',
  'parent',
  'tree',
  'stats',
  'skipped',
  'git',
  'paths',
  'rules',
  'tool',
]);

export function decodeSnapshot(data: Buffer, what: string): SnapshotRecord {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  let parsed: unknown;
  const text = data.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged('is not a valid snapshot record');
  }
  if (!isRecord(parsed) || parsed.v !== 1) throw damaged('is not a valid snapshot record');
  const { checksum, ...r } = parsed;
  // A record without a checksum is an older one, whose fields are all known: a field we never write is the
  // checksum's own name with a flipped byte ("chec{sum"), which would otherwise pass for an older record.
  if (checksum === undefined && Object.keys(r).some((key) => !RECORD_FIELDS.has(key))) {
    throw damaged('has a field no record carries (a damaged checksum?)');
  }
  if (checksum !== undefined) {
    // The stored bytes must be exactly what we write: then any changed byte changes the body or the sum.
    if (typeof checksum !== 'string' || checksumOf(JSON.stringify(r)) !== checksum || JSON.stringify(parsed) !== text) {
      throw damaged('does not match its checksum');
    }
  }
  const ws = r.workspace;
  const stats = r.stats;
  if (
    typeof r.id !== 'string' ||
    !SNAPSHOT_ID_PATTERN.test(r.id) ||
    typeof r.time !== 'string' ||
    Number.isNaN(Date.parse(r.time)) ||
    !isRecord(ws) ||
    typeof ws.path !== 'string' ||
    typeof ws.id !== 'string' ||
    typeof r.tree !== 'string' ||
    !ID_PATTERN.test(r.tree) ||
    typeof r.trigger !== 'string' ||
    typeof r.host !== 'string' ||
    !isRecord(stats) ||
    (r.parent !== undefined && (typeof r.parent !== 'string' || !SNAPSHOT_ID_PATTERN.test(r.parent))) ||
    (r.label !== undefined && typeof r.label !== 'string') ||
    (r.autoLabel !== undefined && r.autoLabel !== true) ||
    (r.pinned !== undefined && typeof r.pinned !== 'boolean')
  ) {
    throw damaged('has missing or malformed fields');
  }
  for (const key of [
    'files',
    'dirs',
    'symlinks',
    'bytes',
    'filesNew',
    'filesChanged',
    'filesDeleted',
    'bytesAdded',
    'dataAdded',
    'blobsAdded',
    'skipped',
  ]) {
    const value = stats[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw damaged(`has a malformed count "${key}"`);
  }
  const record = r as unknown as SnapshotRecord;
  if (checksum === undefined) unchecked.add(record);
  return record;
}
