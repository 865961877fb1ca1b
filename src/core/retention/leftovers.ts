// What a killed writer left in the store: packs saved before the index that would have named them, and temp
// files. A failed snapshot removes its own (BlobWriter.abandon); a killed one cannot, so whoever finds its
// stale lock leaves a marker (storage/lock.ts, INTERRUPTED_PREFIX) and the next snapshot calls this.
// Invariant: nothing is removed unless we hold the store alone (an exclusive lock, not waited for), and
// only for deaths that are proven: then no live writer can have a pack that no index names yet.

import { isBackupError } from '../errors';
import { openIndex, walkIndex } from '../repository/indexFile';
import type { Repository } from '../repository/repository';
import { INTERRUPTED_PREFIX, parseInterrupted } from '../storage/lock';

export interface LeftoversReport {
  packsRemoved: number;
  bytesRemoved: number;
  tempsRemoved: number;
}

/** Pack ids named by any index file on disk (not the in-memory index: it may lag another process's). */
async function indexedPacks(repo: Repository): Promise<Set<string>> {
  const named = new Set<string>();
  for (const key of await repo.backend.list('index')) {
    const data = openIndex(await repo.backend.load(key), repo.codec, `Index file ${key}`);
    walkIndex(
      data,
      `Index file ${key}`,
      (packId) => named.add(packId),
      () => undefined,
    );
  }
  return named;
}

/**
 * Removes the packs and temp files of writers that were killed, when the store's markers say one was and
 * the store is free right now. Returns undefined when there was nothing to do or it had to wait (the
 * markers stay for a later run, or for prune, which clears them too). Never throws for a busy store.
 */
async function markers(repo: Repository): Promise<{ keys: string[]; certain: boolean }> {
  const keys = (await repo.backend.list('locks')).filter((key) => key.startsWith(INTERRUPTED_PREFIX));
  let certain = true;
  for (const key of keys) {
    const marker = parseInterrupted(await repo.backend.load(key).catch(() => Buffer.alloc(0)));
    // A lock that only went unrefreshed may be a suspended writer's: leave its packs to prune. An unreadable
    // marker is the same doubt.
    if (!marker || !marker.certain) certain = false;
  }
  return { keys, certain };
}

export async function removeInterruptedLeftovers(repo: Repository): Promise<LeftoversReport | undefined> {
  const before = await markers(repo);
  if (before.keys.length === 0 || !before.certain) return undefined;
  let lock;
  try {
    lock = await repo.lock(true, 'removing what an interrupted backup left', 0);
  } catch (error) {
    if (isBackupError(error, 'REPO_LOCKED')) return undefined;
    throw error;
  }
  try {
    // Taking the lock may itself have found another stale lock: decide on what is there now.
    const now = await markers(repo);
    if (!now.certain) return undefined;
    const named = await indexedPacks(repo);
    const report: LeftoversReport = { packsRemoved: 0, bytesRemoved: 0, tempsRemoved: 0 };
    for (const key of await repo.backend.list('data')) {
      if (named.has(key.slice(key.lastIndexOf('/') + 1))) continue;
      report.bytesRemoved += (await repo.backend.size(key)) ?? 0;
      await repo.backend.remove(key);
      report.packsRemoved++;
    }
    // Alone in the store, every temp file is a leftover.
    report.tempsRemoved = (await repo.backend.removeStaleTemps?.(0)) ?? 0;
    // Markers last: a crash before this line only means the next run looks again.
    for (const key of now.keys) await repo.backend.remove(key);
    return report;
  } finally {
    await lock.release();
  }
}
