// Reads what the 3-2-1 assessment needs from an open store: the workspace's snapshots, the last verify,
// encryption, and the store's record of each replication, merged with the destinations a front end knows
// of (the editor's settings, `status --to`). Invariant: read-only, and a destination named twice (in the
// settings and in a replication record) is one copy.

import type { FsPort } from '../storage/fsPort';
import type { Repository } from '../repository/repository';
import { historyIdsFrom, loadLineageRecords } from '../records/lineageRecords';
import { loadReplicaRecords, replicaDestination } from '../records/replicaRecord';
import type { DestinationInput, HealthInput, HealthReport } from './health';
import { assessHealth } from './health';
import { loadVerifyRecord } from '../records/verifyRecord';

export interface GatherOptions {
  workspace: string;
  workspaceId: string;
  /** Destinations known to the caller; their offsite marks win over the ones recorded at replication. */
  destinations?: readonly DestinationInput[];
  /** Only these destinations (the editor's settings); otherwise every destination the store has replicated to. */
  onlyGiven?: boolean;
  now?: Date;
  staleAfterHours?: number;
  verifyEveryDays?: number;
  git?: HealthInput['git'];
}

/** The key a destination is known by (the replica records' own): credentials and trailing slashes do not make another destination. */
export function destinationKey(location: string): string {
  return replicaDestination(location);
}

export async function gatherHealth(repo: Repository, port: FsPort, options: GatherOptions): Promise<HealthReport> {
  // The workspace's whole history: a moved project's old snapshots are its copies too (query/lineage.ts).
  const ids = new Set(historyIdsFrom(await loadLineageRecords(repo), options.workspaceId));
  const snapshots = (await repo.listSnapshots({ onDamaged: () => undefined })).filter((s) => ids.has(s.workspace.id));
  const latest = snapshots[snapshots.length - 1];
  const verify = await loadVerifyRecord(repo);
  const records = await loadReplicaRecords(repo);

  const byKey = new Map<string, DestinationInput>();
  for (const given of options.destinations ?? []) byKey.set(destinationKey(given.location), { ...given });
  for (const record of records) {
    const key = destinationKey(record.destination);
    const known = byKey.get(key);
    if (known) {
      if (!known.lastReplication || record.time > known.lastReplication) known.lastReplication = record.time;
      known.offsite ??= record.offsite;
    } else if (!options.onlyGiven) {
      byKey.set(key, { location: record.destination, offsite: record.offsite, lastReplication: record.time });
    }
  }
  const input: HealthInput = {
    workspace: options.workspace,
    store: repo.location,
    lastSnapshot: latest?.time,
    firstSnapshot: snapshots[0]?.time,
    snapshotCount: snapshots.length,
    lastVerify: verify ? { time: verify.time, ok: verify.ok } : undefined,
    encrypted: repo.codec.encrypted,
    destinations: [...byKey.values()],
    now: options.now ?? new Date(),
    staleAfterHours: options.staleAfterHours,
    verifyEveryDays: options.verifyEveryDays,
    git: options.git,
  };
  return assessHealth(input, port);
}
