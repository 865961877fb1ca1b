// The source store's memory of its replicas: one small sealed record per destination, rewritten after each
// successful copy, read by the health view and `status` ("when did this store last reach an offsite copy?").
// Invariant: records sit directly under meta/ (`meta/replica-<hash>`, never in a sub-folder) and a damaged
// one is skipped, never fatal: it only describes the past.

import type { BackupError } from '../errors';
import { loadAllMeta, saveMeta } from './metaStore';
import type { MetaStore } from './metaStore';
import { isRemoteLocation, normalizeLocation } from '../storage/locate';
import { redactLocation } from '../storage/remote';

export const REPLICA_PREFIX = 'meta/replica-';

export interface ReplicaRecord {
  v: 1;
  /** Where the copy went, without credentials: a folder path or an sftp:// URL. */
  destination: string;
  /** When the copy finished (ISO 8601). */
  time: string;
  /** Snapshots at the destination after the copy. */
  snapshots: number;
  objectsCopied: number;
  bytesCopied: number;
  /** The user said the destination is in another place (another building, a server elsewhere). */
  offsite?: boolean;
  /**
   * A short digest of each snapshot record as last copied (key -> 16 hex of SHA-256 of its stored bytes).
   * Records are rewritten in place by a label or pin; this is how the next copy notices one whose size stayed.
   */
  records?: Record<string, string>;
}

/** A destination as records name it: folders absolute without a trailing slash, URLs without a password or trailing slash. */
export function replicaDestination(location: string): string {
  if (!isRemoteLocation(location)) return normalizeLocation(location).replace(/(.)[\\/]+$/, '$1');
  return redactLocation(location).replace(/\/+$/, '');
}

/**
 * The record's key: a hash of the destination, so one destination keeps one record. The store's id hash (a
 * keyed one in an encrypted store) keeps the key from confirming a guessed destination to an outsider.
 */
export function replicaKey(repo: MetaStore, destination: string): string {
  return `${REPLICA_PREFIX}${repo.codec.id(Buffer.from(replicaDestination(destination), 'utf8')).slice(0, 16)}`;
}

export async function saveReplicaRecord(repo: MetaStore, record: Omit<ReplicaRecord, 'v'>): Promise<void> {
  const full: ReplicaRecord = { v: 1, ...record, destination: replicaDestination(record.destination) };
  await saveMeta(repo, replicaKey(repo, full.destination), full);
}

function validate(parsed: unknown): ReplicaRecord | undefined {
  const r = parsed as Partial<ReplicaRecord> | null;
  const count = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (
    !r ||
    r.v !== 1 ||
    typeof r.destination !== 'string' ||
    typeof r.time !== 'string' ||
    Number.isNaN(Date.parse(r.time)) ||
    !count(r.snapshots) ||
    !count(r.objectsCopied) ||
    !count(r.bytesCopied) ||
    (r.offsite !== undefined && typeof r.offsite !== 'boolean') ||
    (r.records !== undefined &&
      (typeof r.records !== 'object' ||
        r.records === null ||
        Object.values(r.records).some((v) => typeof v !== 'string')))
  ) {
    return undefined;
  }
  return r as ReplicaRecord;
}

/**
 * Every destination this store was copied to, with its latest successful copy, oldest first. Damaged or
 * unreadable records are left out (and reported through `onDamaged`).
 */
export async function loadReplicaRecords(
  repo: MetaStore,
  options: { onDamaged?: (key: string, error: BackupError) => void } = {},
): Promise<ReplicaRecord[]> {
  // Directly under meta/ only: a copy's own sub-folders are not replica records.
  const records = (
    await loadAllMeta(repo, REPLICA_PREFIX, (key) => `Replica record ${key}`, validate, {
      flat: true,
      onDamaged: options.onDamaged,
    })
  ).map((r) => r.value);
  return records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}
