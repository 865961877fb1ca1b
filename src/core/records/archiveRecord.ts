// Archive records: which archives were made of which snapshot, relative to what, so a differential or
// incremental archive knows its base. One small sealed JSON file per archive under `meta/archives/<id>`.
// Invariant: a record is written only after its archive is complete under the user's name, so the chain
// never names an archive that does not exist (at worst an archive is missing from the chain, and the
// next one is then relative to an earlier archive: larger, never wrong).

import { BackupError } from '../errors';
import { SNAPSHOT_ID_PATTERN } from '../repository/snapshotRecord';
import { isRecord } from '../repository/tree';
import { listMeta, loadMeta, saveMeta } from './metaStore';
import type { MetaStore } from './metaStore';

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw new BackupError('OBJECT_DAMAGED', `${what} is not a valid archive record; it is damaged.`, { what });
  }
  return validateArchiveRecord(parsed, what);
}

/** The record's fields checked; OBJECT_DAMAGED (one sentence naming `what`) when one is missing or malformed. */
export function validateArchiveRecord(parsed: unknown, what: string): ArchiveRecord {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  if (!isRecord(parsed) || parsed.v !== 1) throw damaged('is not a valid archive record');
  const r = parsed;
  const ws = r.workspace;
  const isSnapshotId = (value: unknown) => typeof value === 'string' && SNAPSHOT_ID_PATTERN.test(value);
  const isCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (
    typeof r.id !== 'string' ||
    !ARCHIVE_ID_PATTERN.test(r.id) ||
    typeof r.time !== 'string' ||
    Number.isNaN(Date.parse(r.time)) ||
    !isRecord(ws) ||
    typeof ws.path !== 'string' ||
    typeof ws.id !== 'string' ||
    !isSnapshotId(r.snapshot) ||
    !KINDS.includes(r.kind as ArchiveKind) ||
    (r.kind === 'full' ? r.base !== null : !isSnapshotId(r.base)) ||
    typeof r.file !== 'string' ||
    !FORMATS.includes(r.format as ArchiveFormat) ||
    !isCount(r.bytes) ||
    !isCount(r.files)
  ) {
    throw damaged('has missing or malformed fields');
  }
  return r as unknown as ArchiveRecord;
}

export async function saveArchiveRecord(repo: MetaStore, record: ArchiveRecord): Promise<void> {
  await saveMeta(repo, archiveKey(record.id), record);
}

/**
 * The archives made of one workspace's snapshots (every workspace's when `workspaceId` is absent), oldest
 * first. A damaged record is reported through `onDamaged` and left out; without `onDamaged` it is an
 * error, since a chain computed without it could name the wrong base.
 */
export async function listArchives(
  repo: MetaStore,
  workspaceId?: string,
  options: { onDamaged?: (key: string, error: BackupError) => void } = {},
): Promise<ArchiveRecord[]> {
  const onDamaged =
    options.onDamaged ??
    ((key: string) => {
      throw new BackupError(
        'OBJECT_DAMAGED',
        `Archive record ${key} is damaged; the archive chain cannot be worked out without it.`,
        { key },
      );
    });
  const records: ArchiveRecord[] = [];
  for (const key of await listMeta(repo, `${ARCHIVES_PREFIX}/`)) {
    const id = key.slice(ARCHIVES_PREFIX.length + 1);
    if (!ARCHIVE_ID_PATTERN.test(id)) continue;
    const what = `Archive record ${key}`;
    const record = await loadMeta(
      repo,
      key,
      `Archive record ${id.slice(0, 8)}`,
      (value) => {
        try {
          const r = validateArchiveRecord(value, what);
          return r.id === id ? r : undefined; // a record under another's key is damage too
        } catch {
          return undefined;
        }
      },
      onDamaged,
    );
    if (record && (workspaceId === undefined || record.workspace.id === workspaceId)) records.push(record);
  }
  return records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
