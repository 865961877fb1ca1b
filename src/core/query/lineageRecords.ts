// The store's record that one workspace continues another's history (a project moved or renamed): one small
// sealed record per link, `meta/lineage/<key>`, written once (atomically) and never changed: two windows
// linking the same pair write the same link under the same key, and nothing is ever read-modified-written. Read by every query that
// gathers a workspace's history (see lineage.ts: workspaceHistoryIds).
// Invariant: a damaged or unreadable record is passed over (it only joins histories, never holds data).

import { BackupError, isBackupError } from '../errors';
import type { ObjectCodec } from '../repository/codec';
import type { Backend } from '../storage/backend';

export const LINEAGE_PREFIX = 'meta/lineage/';

export interface LineageRecord {
  v: 1;
  /** The workspace whose snapshots count as history of `to`. */
  from: string;
  to: string;
  /** Where `to` was when the link was made (for messages; the id is what counts). */
  toPath: string;
  time: string;
}

/** What reading and writing lineage records needs of a store. */
export interface LineageStore {
  readonly backend: Pick<Backend, 'list' | 'load' | 'save'>;
  readonly codec: Pick<ObjectCodec, 'id' | 'seal' | 'open' | 'encrypted'>;
}

/** One key per (from, to): by a keyed hash in an encrypted store, so the key does not confirm a guessed path's id. */
export function lineageKey(store: LineageStore, from: string, to: string): string {
  return `${LINEAGE_PREFIX}${store.codec.id(Buffer.from(`lineage:${from}>${to}`, 'utf8')).slice(0, 32)}`;
}

export async function saveLineageRecord(store: LineageStore, record: LineageRecord): Promise<void> {
  // `save`, not createOnce: it makes the meta/lineage folder a store may not have yet, and a second writer of
  // the same key writes the same link.
  await store.backend.save(lineageKey(store, record.from, record.to), store.codec.seal(Buffer.from(JSON.stringify(record), 'utf8')));
}

function decode(data: Buffer, key: string): LineageRecord {
  let parsed: Partial<LineageRecord> | null;
  try {
    parsed = JSON.parse(data.toString('utf8')) as Partial<LineageRecord> | null;
  } catch {
    parsed = null;
  }
  const id = (value: unknown) => typeof value === 'string' && /^[0-9a-f]{16}$/.test(value);
  if (!parsed || parsed.v !== 1 || !id(parsed.from) || !id(parsed.to) || typeof parsed.toPath !== 'string' || typeof parsed.time !== 'string') {
    throw new BackupError('OBJECT_DAMAGED', `Lineage record ${key} has missing or malformed fields; it is damaged.`, { key });
  }
  return parsed as LineageRecord;
}

/** Every link in the store. Damaged ones are reported through `onDamaged` and left out. */
export async function loadLineageRecords(store: LineageStore, options: { onDamaged?: (key: string, error: BackupError) => void } = {}): Promise<LineageRecord[]> {
  const records: LineageRecord[] = [];
  for (const key of await store.backend.list('meta')) {
    if (!key.startsWith(LINEAGE_PREFIX)) continue;
    try {
      records.push(decode(store.codec.open(await store.backend.load(key), `Lineage record ${key}`), key));
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING')) continue;
      if (isBackupError(error, 'OBJECT_DAMAGED')) {
        options.onDamaged?.(key, error);
        continue;
      }
      throw error;
    }
  }
  return records;
}

/** `id` and every workspace whose history it continues, directly or through others, nearest first. */
export function historyIdsFrom(records: readonly LineageRecord[], id: string): string[] {
  const ids = [id];
  const seen = new Set(ids);
  for (let i = 0; i < ids.length; i++) {
    for (const link of records) {
      if (link.to === ids[i] && !seen.has(link.from)) {
        seen.add(link.from);
        ids.push(link.from);
      }
    }
  }
  return ids;
}
