// The 3-2-1 assessment of one workspace: how many copies exist (the workspace, the local store, each
// destination), on how many distinct media, whether one is offsite, how fresh they are, and whether the
// store is encrypted; each gap comes with the fix that closes it. The editor's Backup Health view, its
// status bar tooltip and `project-backup status` all render this one report.
// Invariants: pure reading (nothing is written); a destination counts as a copy only once a replication to
// it has succeeded; media are told apart by device id, and an offsite destination is a medium of its own.

import * as path from 'node:path';
import type { FsPort } from '../storage/fsPort';
import { isRemoteLocation } from '../storage/locate';

/** A destination the store is replicated to, with what is known of its last replication. */
export interface DestinationInput {
  location: string;
  /** The user's mark; remote destinations are offsite unless marked otherwise, folders are not. */
  offsite?: boolean;
  /** When the last replication to it finished. */
  lastReplication?: string;
  /** The last replication's failure, if the latest attempt failed. */
  lastError?: string;
}

export interface HealthInput {
  workspace: string;
  store: string;
  /** Time of the workspace's latest snapshot in the local store. */
  lastSnapshot?: string;
  /** Time of its first: a destination last copied before it holds nothing of this workspace. */
  firstSnapshot?: string;
  /** Snapshots of the workspace in the local store. */
  snapshotCount: number;
  lastVerify?: { time: string; ok: boolean };
  encrypted: boolean;
  destinations: readonly DestinationInput[];
  now: Date;
  /** Snapshots older than this many hours make a gap (0: never). */
  staleAfterHours?: number;
  /** A verify older than this many days makes a gap. */
  verifyEveryDays?: number;
  /** The workspace's git repository, when it has one whose `.git` full snapshots leave out (see gitFolder.ts). */
  git?: LocalGitHistory & { included: boolean };
}

/** What of a repository's history exists only on this machine. */
export interface LocalGitHistory {
  hasRemote: boolean;
  /** Commits on local branches that no remote-tracking branch holds. */
  localOnlyCommits: number;
}

export type CopyKind = 'workspace' | 'store' | 'destination';

export interface CopyStatus {
  kind: CopyKind;
  location: string;
  /** The medium it lives on: a device id for local paths, the host for remote ones; undefined when unreachable. */
  medium?: string;
  offsite: boolean;
  /** Whether it counts as a copy of the workspace now. */
  counts: boolean;
  /** When it last received data (the snapshot for the store, the replication for a destination). */
  lastUpdate?: string;
  /** Holds the latest snapshot (false when a replication is due). */
  upToDate: boolean;
  note?: string;
  /**
   * Something the user should check although the copy counts: a folder marked offsite that is on the store's
   * own disk (right for a cloud-synced folder, wrong for a plain one).
   */
  warning?: string;
}

export type FixId =
  | 'snapshotNow'
  | 'addDestination'
  | 'addOffsiteDestination'
  | 'replicateNow'
  | 'verifyNow'
  | 'encryptStore'
  | 'includeGit';

export interface Gap {
  id:
    | 'noSnapshot'
    | 'staleSnapshot'
    | 'copies'
    | 'media'
    | 'offsite'
    | 'replication'
    | 'verify'
    | 'encryption'
    | 'gitHistory';
  /** A few words for a tree row: "No offsite copy". */
  title: string;
  /** The whole sentence, with why it matters. */
  message: string;
  fix: FixId;
  fixLabel: string;
}

export interface HealthReport {
  workspace: string;
  store: string;
  copies: number;
  media: number;
  offsite: boolean;
  /** Three copies, two media, one offsite. */
  meets321: boolean;
  encrypted: boolean;
  lastSnapshot?: string;
  snapshotCount: number;
  lastReplication?: string;
  lastVerify?: { time: string; ok: boolean };
  locations: CopyStatus[];
  gaps: Gap[];
}

const DAY = 86_400_000;

/** The medium of a local path: the device of the path or, when it does not exist yet, of its nearest existing parent. */
export async function mediumOf(port: FsPort, location: string): Promise<string | undefined> {
  if (isRemoteLocation(location)) return `remote:${remoteHost(location)}`;
  let current = path.resolve(location);
  for (;;) {
    try {
      return `dev:${(await port.stat(current)).dev}`;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return undefined;
      current = parent;
    }
  }
}

function remoteHost(location: string): string {
  try {
    return new URL(location).hostname || location;
  } catch {
    return location;
  }
}

/** A destination is a copy only while it can be reached: a folder on an unplugged drive (its root gone) is not. */
/**
 * Whether a destination can be reached now. A remote one is known only by connecting (the last replication's
 * outcome stands in). A folder must be there and, once it has received a copy, hold the store: an unplugged
 * drive leaves its mount point behind, empty.
 */
async function destinationReachable(port: FsPort, location: string, copiedBefore: boolean): Promise<boolean> {
  if (isRemoteLocation(location)) return true;
  return port.stat(copiedBefore ? path.join(location, 'config') : location).then(
    (s) => (copiedBefore ? s.isFile() : s.isDirectory()),
    () => false,
  );
}

export async function assessHealth(input: HealthInput, port: FsPort): Promise<HealthReport> {
  const locations: CopyStatus[] = [];
  const lastSnapshotMs = input.lastSnapshot ? Date.parse(input.lastSnapshot) : undefined;

  locations.push({
    kind: 'workspace',
    location: input.workspace,
    medium: await mediumOf(port, input.workspace),
    offsite: false,
    counts: true,
    upToDate: true,
  });
  const storeHolds = input.snapshotCount > 0;
  locations.push({
    kind: 'store',
    location: input.store,
    medium: await mediumOf(port, input.store),
    offsite: false,
    counts: storeHolds,
    lastUpdate: input.lastSnapshot,
    upToDate: storeHolds,
    note: storeHolds ? undefined : 'no snapshot of this workspace yet',
  });

  let lastReplication: string | undefined;
  for (const d of input.destinations) {
    const remote = isRemoteLocation(d.location);
    const offsite = d.offsite ?? remote;
    const reachable = await destinationReachable(port, d.location, d.lastReplication !== undefined);
    // A store is shared by workspaces: a copy made before this workspace's first snapshot holds none of it.
    const replicated =
      d.lastReplication !== undefined && (!input.firstSnapshot || d.lastReplication >= input.firstSnapshot);
    const upToDate = replicated && lastSnapshotMs !== undefined && Date.parse(d.lastReplication!) >= lastSnapshotMs;
    if (replicated && (!lastReplication || d.lastReplication! > lastReplication)) lastReplication = d.lastReplication;
    let note: string | undefined;
    if (!reachable) note = 'not reachable (drive not connected?)';
    else if (d.lastError) note = `last replication failed: ${d.lastError}`;
    else if (!replicated) note = d.lastReplication ? 'holds no snapshot of this workspace yet' : 'never replicated';
    else if (!upToDate) note = 'behind the latest snapshot';
    // An offsite folder counts as a medium of its own (a synced folder's copy is elsewhere), but the mark is
    // only the user's word: on the store's own disk it deserves a second look.
    const onStoreDisk = !remote && offsite && reachable && (await mediumOf(port, d.location)) === locations[1].medium;
    locations.push({
      kind: 'destination',
      location: d.location,
      // A remote destination's medium is its host (two folders on one server are one medium). An offsite
      // folder is its own medium whatever device it reports: a synced folder is on the local disk, its copy elsewhere.
      medium: remote
        ? await mediumOf(port, d.location)
        : offsite
          ? `offsite:${d.location}`
          : reachable
            ? await mediumOf(port, d.location)
            : undefined,
      offsite,
      counts: replicated && reachable && storeHolds,
      lastUpdate: d.lastReplication,
      upToDate,
      note,
      ...(onStoreDisk
        ? {
            warning:
              'marked offsite, but on the same disk as the store: right for a cloud-synced folder, not for a plain one',
          }
        : {}),
    });
  }

  const counted = locations.filter((l) => l.counts);
  const copies = counted.length;
  const media = new Set(counted.map((l) => l.medium ?? `unknown:${l.location}`)).size;
  const offsite = counted.some((l) => l.offsite);
  const gaps = findGaps(input, locations, { copies, media, offsite });
  return {
    workspace: input.workspace,
    store: input.store,
    copies,
    media,
    offsite,
    meets321: copies >= 3 && media >= 2 && offsite,
    encrypted: input.encrypted,
    lastSnapshot: input.lastSnapshot,
    snapshotCount: input.snapshotCount,
    lastReplication,
    lastVerify: input.lastVerify,
    locations,
    gaps,
  };
}

function findGaps(
  input: HealthInput,
  locations: readonly CopyStatus[],
  totals: { copies: number; media: number; offsite: boolean },
): Gap[] {
  const gaps: Gap[] = [];
  const now = input.now.getTime();
  const git = input.git;
  if (git && !git.included && (!git.hasRemote || git.localOnlyCommits > 0)) {
    const what = git.hasRemote
      ? `${git.localOnlyCommits === 1 ? '1 commit is' : `${git.localOnlyCommits} commits are`} on no remote`
      : 'the repository has no remote';
    gaps.push({
      id: 'gitHistory',
      title: 'Git history only on this machine',
      message: `The git history is not backed up and ${what}: losing this folder loses ${git.hasRemote ? 'them' : 'every commit'}. Include .git in full snapshots.`,
      fix: 'includeGit',
      fixLabel: 'Back up the git history',
    });
  }
  if (input.snapshotCount === 0) {
    gaps.push({
      id: 'noSnapshot',
      title: 'No snapshot yet',
      message: 'This workspace has no snapshot yet.',
      fix: 'snapshotNow',
      fixLabel: 'Snapshot now',
    });
  } else if (
    input.staleAfterHours &&
    input.lastSnapshot &&
    now - Date.parse(input.lastSnapshot) > input.staleAfterHours * 3_600_000
  ) {
    gaps.push({
      id: 'staleSnapshot',
      title: 'Latest snapshot is old',
      message: `The latest snapshot is older than ${input.staleAfterHours} hours.`,
      fix: 'snapshotNow',
      fixLabel: 'Snapshot now',
    });
  }
  const destinations = locations.filter((l) => l.kind === 'destination');
  if (totals.copies < 3) {
    // A configured destination that has not received a copy yet closes the gap faster than a new one.
    const waiting = destinations.some((d) => !d.counts && d.medium !== undefined);
    gaps.push({
      id: 'copies',
      title: `Only ${totals.copies} of 3 copies`,
      message: `${totals.copies} ${totals.copies === 1 ? 'copy' : 'copies'} of 3: ${3 - totals.copies} more needed.`,
      fix: waiting ? 'replicateNow' : 'addDestination',
      fixLabel: waiting ? 'Replicate now' : 'Add a destination',
    });
  }
  if (totals.media < 2) {
    gaps.push({
      id: 'media',
      title: 'All copies on one disk',
      message: 'Every copy is on the same disk: one disk failure loses them all.',
      fix: 'addDestination',
      fixLabel: 'Add a destination on another drive',
    });
  }
  if (!totals.offsite) {
    gaps.push({
      id: 'offsite',
      title: 'No offsite copy',
      message: 'No copy is offsite: a fire, theft or ransomware reaches every copy.',
      fix: 'addOffsiteDestination',
      fixLabel: 'Add an offsite destination',
    });
  }
  const behind = destinations.filter((d) => d.counts && !d.upToDate);
  if (behind.length > 0) {
    gaps.push({
      id: 'replication',
      title: behind.length === 1 ? 'A destination is behind' : `${behind.length} destinations are behind`,
      message: `${behind.length === 1 ? 'A destination is' : `${behind.length} destinations are`} behind the latest snapshot.`,
      fix: 'replicateNow',
      fixLabel: 'Replicate now',
    });
  }
  const verifyEvery = (input.verifyEveryDays ?? 30) * DAY;
  if (input.snapshotCount > 0) {
    if (!input.lastVerify)
      gaps.push({
        id: 'verify',
        title: 'Never verified',
        message: 'The store has never been verified.',
        fix: 'verifyNow',
        fixLabel: 'Verify now',
      });
    else if (!input.lastVerify.ok)
      gaps.push({
        id: 'verify',
        title: 'Last verify found damage',
        message: 'The last verify found damage.',
        fix: 'verifyNow',
        fixLabel: 'Verify again',
      });
    else if (now - Date.parse(input.lastVerify.time) > verifyEvery)
      gaps.push({
        id: 'verify',
        title: 'Last verify is old',
        message: `The last verify is more than ${Math.round(verifyEvery / DAY)} days old.`,
        fix: 'verifyNow',
        fixLabel: 'Verify now',
      });
  }
  if (!input.encrypted && destinations.some((d) => d.offsite)) {
    gaps.push({
      id: 'encryption',
      title: 'Offsite copy is not encrypted',
      message: "The store is not encrypted, and a copy of it lives on someone else's disk.",
      fix: 'encryptStore',
      fixLabel: 'Start an encrypted store',
    });
  }
  return gaps;
}

/** One line for a status bar tooltip or a log: "2 of 3 copies · 1 of 2 media · no offsite copy". */
export function healthSummary(report: HealthReport): string {
  const copies = `${Math.min(report.copies, 99)} of 3 copies`;
  const media = `${report.media} of 2 media`;
  const offsite = report.offsite ? 'offsite copy' : 'no offsite copy';
  return `${report.meets321 ? '3-2-1 met' : '3-2-1 not met'}: ${copies} · ${media} · ${offsite}`;
}
