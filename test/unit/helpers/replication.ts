// Shared by the replication tests (folder and SFTP destinations): a small source store with two snapshots,
// the keys a copy must carry, and the check that a destination is a consistent store at any moment.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { verifyRepository } from '../../../src/core/check/verify';
import { BackupError } from '../../../src/core/errors';
import { REPLICA_PREFIX } from '../../../src/core/records/replicaRecord';
import { Repository } from '../../../src/core/repository/repository';
import type { Backend, KeyKind } from '../../../src/core/storage/backend';
import { nodeFs } from '../../../src/core/storage/fsPort';
import { LocalBackend } from '../../../src/core/storage/localBackend';
import { openRepo, seededBytes, seededText, snapshotterFor, writeTree } from './fixtures';
import type { TempDirs, TreeSpec } from './fixtures';

export const REPLICA_SPEC: TreeSpec = {
  'README.md': '# project\n',
  'src/index.ts': seededText(4000, 1),
  'src/lib/util.ts': seededText(9000, 2),
  'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho run\n' },
  'data/blob.bin': seededBytes(300_000, 3),
  'data/big.bin': seededBytes(1_500_000, 4), // chunked: several blobs
  'links/to-readme': { symlink: '../README.md' },
  'empty-dir': { dir: true },
};

/** A source store with two snapshots of a workspace; the workspace is left at the second. */
export async function sourceStore(temp: TempDirs): Promise<{ repo: Repository; dir: string; ws: string }> {
  const ws = temp.make('ws');
  writeTree(ws, REPLICA_SPEC);
  const dir = temp.fresh('source');
  const repo = await openRepo(dir);
  await snapshotterFor(repo, ws).snapshot();
  writeTree(ws, {
    'src/index.ts': seededText(4100, 5),
    'added.txt': 'new\n',
    'data/more.bin': seededBytes(200_000, 6),
  });
  await snapshotterFor(repo, ws).snapshot();
  return { repo, dir, ws };
}

/** Keys a copy carries, per kind (not locks, cache, or the records that describe the source itself). */
export async function copiedKeys(backend: Backend): Promise<string[]> {
  const kinds: KeyKind[] = ['data', 'index', 'snapshots', 'meta'];
  const keys: string[] = [];
  for (const kind of kinds)
    keys.push(...(await backend.list(kind)).filter((k) => !k.startsWith(REPLICA_PREFIX) && k !== 'meta/last-verify'));
  return keys.sort();
}

/**
 * The destination as a user would find it: it opens, verifies clean reading every byte, and every snapshot
 * it lists is one of the source's. Returns the snapshot ids it lists. A destination without a config (cut
 * off before the first write) must hold nothing else.
 */
export async function assertConsistent(
  location: string,
  sourceIds: readonly string[],
  what: string,
  open: (location: string) => Promise<Repository> = (l) => Repository.open(l),
): Promise<string[]> {
  let repo: Repository;
  try {
    repo = await open(location);
  } catch (error) {
    if (!(error instanceof BackupError) || error.code !== 'REPO_NOT_FOUND') throw error;
    if (!fs.existsSync(location)) return [];
    const backend = new LocalBackend(location, nodeFs);
    assert.deepEqual(
      [...(await backend.list('index')), ...(await backend.list('snapshots'))],
      [],
      `${what}: records without a config`,
    );
    return [];
  }
  try {
    const report = await verifyRepository(repo, { readData: true });
    assert.ok(report.ok, `${what}: the destination does not verify: ${JSON.stringify(report.damage.slice(0, 3))}`);
    const ids = (await repo.listSnapshots()).map((s) => s.id);
    for (const id of ids) assert.ok(sourceIds.includes(id), `${what}: ${id} is not a source snapshot`);
    return ids;
  } finally {
    await repo.close();
  }
}
