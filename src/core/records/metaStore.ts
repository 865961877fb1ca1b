// meta/: the small facts a store keeps about itself (the last verify, each replica, each exported archive,
// the links that join a moved project's history). This module is their one door (#13): every record is
// sealed JSON under one key (so an encrypted store reveals none of it), written atomically in one save, and
// listed by prefix. The record modules beside it (verifyRecord, replicaRecord, archiveRecord,
// lineageRecords) only say what a record holds and how to validate it.
// Invariant: a record that is missing reads as absent; one that is damaged is reported and passed over,
// never fatal: meta/ only describes the past, it never holds the data.

import { BackupError, isBackupError } from '../errors';
import type { ObjectCodec } from '../repository/codec';
import type { Backend } from '../storage/backend';

/** What reading and writing meta/ needs of a store (a Repository has it; so does a destination's view of one). */
export interface MetaStore {
  readonly backend: Pick<Backend, 'list' | 'load' | 'save'>;
  readonly codec: Pick<ObjectCodec, 'id' | 'seal' | 'open' | 'encrypted'>;
}

export async function saveMeta(store: MetaStore, key: string, value: unknown): Promise<void> {
  if (!key.startsWith('meta/')) throw new Error(`not a meta/ key: ${key}`);
  await store.backend.save(key, store.codec.seal(Buffer.from(JSON.stringify(value), 'utf8')));
}

/**
 * The record under `key`, checked by `validate` (which returns undefined for a malformed one): undefined
 * when it is absent; a damaged one (unsealable, not JSON, malformed) is reported through `onDamaged`.
 */
export async function loadMeta<T>(
  store: MetaStore,
  key: string,
  what: string,
  validate: (value: unknown) => T | undefined,
  onDamaged?: (key: string, error: BackupError) => void,
): Promise<T | undefined> {
  let data: Buffer;
  try {
    data = await store.backend.load(key);
  } catch (error) {
    if (isBackupError(error, 'OBJECT_MISSING')) return undefined;
    throw error;
  }
  let value: T | undefined;
  try {
    value = validate(JSON.parse(store.codec.open(data, what).toString('utf8')));
  } catch (error) {
    if (isBackupError(error) && error.code !== 'OBJECT_DAMAGED' && error.code !== 'WRONG_PASSPHRASE') throw error;
    value = undefined;
  }
  if (value === undefined)
    onDamaged?.(key, new BackupError('OBJECT_DAMAGED', `${what} (${key}) is damaged; it is left out.`, { key }));
  return value;
}

/** Keys under `prefix` (e.g. `meta/replica-`); `flat`: only those with no further `/` after it. */
export async function listMeta(store: MetaStore, prefix: string, flat = false): Promise<string[]> {
  return (await store.backend.list('meta')).filter(
    (key) => key.startsWith(prefix) && (!flat || !key.includes('/', prefix.length)),
  );
}

/** Every record under `prefix` that reads and validates, with its key. */
export async function loadAllMeta<T>(
  store: MetaStore,
  prefix: string,
  what: (key: string) => string,
  validate: (value: unknown) => T | undefined,
  options: { flat?: boolean; onDamaged?: (key: string, error: BackupError) => void } = {},
): Promise<Array<{ key: string; value: T }>> {
  const out: Array<{ key: string; value: T }> = [];
  for (const key of await listMeta(store, prefix, options.flat)) {
    const value = await loadMeta(store, key, what(key), validate, options.onDamaged);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}
