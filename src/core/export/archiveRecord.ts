// Archive records: which archives were made of which snapshot, relative to what, so a differential or
// incremental archive knows its base. One small sealed JSON file per archive under `meta/archives/<id>`.
// Invariant: a record is written only after its archive is complete under the user's name, so the chain
// never names an archive that does not exist (at worst an archive is missing from the chain, and the
// next one is then relative to an earlier archive: larger, never wrong).

import * as path from 'node:path';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import type { Repository } from '../repository/repository';
import { SNAPSHOT_ID_PATTERN } from '../repository/snapshotRecord';
import { isRecord } from '../repository/tree';
import { isTempName } from '../storage/atomic';

export type ArchiveFormat = 'zip' | 'tar.gz';
export type ArchiveKind = 'full' | 'differential' | 'incremental';

export interface ArchiveRecord {
  v: 1;
  id: string;
  /** When the archive was made (ISO). */
  time: string;
  /** The workspace of the archived snapshot, as in its snapshot record. */
  workspace: { path: string; id: string };
  /** The archived snapshot. */
  snapshot: string;
  kind: ArchiveKind;
  /** The snapshot the archive is relative to; null for a full archive. */
  base: string | null;
  /** Absolute path the archive was written to. */
  file: string;
  format: ArchiveFormat;
  /** Size of the archive file. */
  bytes: number;
  /** Files and symlinks in the archive (folders and the manifest aside). */
  files: number;
}

export const ARCHIVES_PREFIX = 'meta/archives';
export const ARCHIVE_ID_PATTERN = /^[0-9a-f]{32}$/;

const KINDS: readonly ArchiveKind[] = ['full', 'differential', 'incremental'];
const FORMATS: readonly ArchiveFormat[] = ['zip', 'tar.gz'];

export function archiveKey(id: string): string {
  return `${ARCHIVES_PREFIX}/${id}`;
}

export function encodeArchiveRecord(record: ArchiveRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

export function decodeArchiveRecord(data: Buffer, what: string): ArchiveRecord {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw damaged('is not a valid archive record');
  }
  if (!isRecord(parsed) || parsed.v !== 1) throw damaged('is not a valid archive record');
  const r = parsed;
  const ws = r.workspace;
  const isSnapshotId = (value: unknown) => typeof value === 'string' && SNAPSHOT_ID_PATTERN.test(value);
  const isCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (
    typeof r.id !== 'string' || !ARCHIVE_ID_PATTERN.test(r.id) ||
    typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time)) ||
    !isRecord(ws) || typeof ws.path !== 'string' || typeof ws.id !== 'string' ||
    !isSnapshotId(r.snapshot) ||
    !KINDS.includes(r.kind as ArchiveKind) ||
    (r.kind === 'full' ? r.base !== null : !isSnapshotId(r.base)) ||
    typeof r.file !== 'string' ||
    !FORMATS.includes(r.format as ArchiveFormat) ||
    !isCount(r.bytes) || !isCount(r.files)
  ) {
    throw damaged('has missing or malformed fields');
  }
  return r as unknown as ArchiveRecord;
}

export async function saveArchiveRecord(repo: Repository, record: ArchiveRecord): Promise<void> {
  await repo.backend.save(archiveKey(record.id), repo.codec.seal(encodeArchiveRecord(record)));
}

/**
 * The archives made of one workspace's snapshots (every workspace's when `workspaceId` is absent), oldest
 * first. A damaged record is reported through `onDamaged` and left out; without `onDamaged` it is an
 * error, since a chain computed without it could name the wrong base.
 */
export async function listArchives(repo: Repository, workspaceId?: string, options: { onDamaged?: (key: string, error: BackupError) => void } = {}): Promise<ArchiveRecord[]> {
  const records: ArchiveRecord[] = [];
  for (const key of await archiveKeys(repo)) {
    const id = key.slice(ARCHIVES_PREFIX.length + 1);
    if (!ARCHIVE_ID_PATTERN.test(id)) continue;
    let record: ArchiveRecord;
    try {
      const data = await repo.backend.load(key);
      record = decodeArchiveRecord(repo.codec.open(data, `Archive record ${id.slice(0, 8)}`), `Archive record ${key}`);
      if (record.id !== id) throw new BackupError('OBJECT_DAMAGED', `Archive record ${key} holds record ${record.id.slice(0, 8)}; it is damaged.`, { key });
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING')) continue; // removed meanwhile
      if (isBackupError(error, 'OBJECT_DAMAGED') && options.onDamaged) {
        options.onDamaged(key, error);
        continue;
      }
      throw error;
    }
    if (workspaceId === undefined || record.workspace.id === workspaceId) records.push(record);
  }
  return records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Keys under `meta/archives/`. A backend that lists nested keys (an object store) returns them directly;
 * LocalBackend lists only the names directly under `meta/`, so its `meta/archives` folder is read through
 * the store's port until Backend.list learns nested keys.
 */
async function archiveKeys(repo: Repository): Promise<string[]> {
  const listed = await repo.backend.list('meta');
  const keys = listed.filter((key) => key.startsWith(`${ARCHIVES_PREFIX}/`));
  if (!listed.includes(ARCHIVES_PREFIX)) return keys;
  const dir = path.join(repo.location, ...ARCHIVES_PREFIX.split('/'));
  let names: string[];
  try {
    names = await repo.port.readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return keys;
    throw describeFsError(error, 'listing', dir);
  }
  const seen = new Set(keys);
  for (const name of names) {
    const key = `${ARCHIVES_PREFIX}/${name}`;
    if (!isTempName(name) && !seen.has(key)) keys.push(key);
  }
  return keys;
}
