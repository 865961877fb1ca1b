// The store's record that one workspace continues another's history (a project moved or renamed): one small
// sealed record per link, `meta/lineage/<key>`, written once (atomically) and never changed: two windows
// linking the same pair write the same link under the same key, and nothing is ever read-modified-written. Read by every query that
// gathers a workspace's history (see lineage.ts: workspaceHistoryIds).
// Invariant: a damaged or unreadable record is passed over (it only joins histories, never holds data).

import type { BackupError } from '../errors';
import { loadAllMeta, saveMeta } from './metaStore';
import type { MetaStore } from './metaStore';

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

/** What reading and writing lineage records needs of a store (meta/'s one door: metaStore.ts). */
export type LineageStore = MetaStore;

/** One key per (from, to): by a keyed hash in an encrypted store, so the key does not confirm a guessed path's id. */
export function lineageKey(store: LineageStore, from: string, to: string): string {
  return `${LINEAGE_PREFIX}${store.codec.id(Buffer.from(`lineage:${from}>${to}`, 'utf8')).slice(0, 32)}`;
}

export async function saveLineageRecord(store: LineageStore, record: LineageRecord): Promise<void> {
  // `save`, not createOnce: it makes the meta/lineage folder a store may not have yet, and a second writer of
  // the same key writes the same link.
  await saveMeta(store, lineageKey(store, record.from, record.to), record);
}

function validate(value: unknown): LineageRecord | undefined {
  const parsed = value as Partial<LineageRecord> | null;
  const id = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{16}$/.test(v);
  if (
    !parsed ||
    parsed.v !== 1 ||
    !id(parsed.from) ||
    !id(parsed.to) ||
    typeof parsed.toPath !== 'string' ||
    typeof parsed.time !== 'string'
  )
    return undefined;
  return parsed as LineageRecord;
}

/** Every link in the store. Damaged ones are reported through `onDamaged` and left out. */
export async function loadLineageRecords(
  store: LineageStore,
  options: { onDamaged?: (key: string, error: BackupError) => void } = {},
): Promise<LineageRecord[]> {
  return (
    await loadAllMeta(store, LINEAGE_PREFIX, (key) => `Lineage record ${key}`, validate, {
      onDamaged: options.onDamaged,
    })
  ).map((r) => r.value);
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
