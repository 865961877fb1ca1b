// Label, pin, unpin and delete a snapshot as one use case (#13): planTag checks the request against the
// record as it is and returns what will change (the label from and to, the pin, or removal); applyTag makes
// all of it in one go under one shared lock (prune waits; snapshots go on), rewriting the record once.
// Invariants: only the record changes (atomically), never the data it names; a pinned snapshot is never
// deleted (unpin it first, in the same request or before); a label the user sets ends the automatic one.

import { BackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';

/** What tagging needs of the store: its snapshot records and its shared lock. */
export type TagRepo = Pick<Repository, 'loadSnapshot' | 'saveSnapshot' | 'removeSnapshot' | 'lock'>;

export const MAX_LABEL = 200;

export interface TagRequest {
  /** The new label; "" removes it. */
  label?: string;
  /**
   * The label is an automatic one (a notable moment: "before switching to main"): written only when the
   * record has no label when applied (a user's label is never replaced, labels never stack), and marked so.
   */
  autoLabel?: boolean;
  pinned?: boolean;
  /** Delete the snapshot record (its data stays until prune finds nothing else needs it). */
  remove?: boolean;
}

export interface TagPlan {
  snapshot: SnapshotRecord;
  /** Set when the label changes; `auto`: only if the record has none then (TagRequest.autoLabel). */
  label?: { from?: string; to?: string; auto?: boolean };
  /** Set when the pin changes. */
  pinned?: { from: boolean; to: boolean };
  remove: boolean;
  lock: 'shared';
  /** The record rewritten (or removed). */
  record: string;
}

export interface TagResult {
  /** The record as written (as it is, when it kept its own label); undefined when it was removed. */
  record?: SnapshotRecord;
  removed: boolean;
  /** An automatic label was not written: the record had a label of its own. Nothing was written. */
  keptLabel?: boolean;
}

const stores = new WeakMap<TagPlan, TagRepo>();

/**
 * Checks the request against the record as the store has it now, not as the caller last saw it (a tree
 * node's record predates an unpin made since): USAGE for a label too long, nothing asked, deleting and
 * labelling at once, deleting a pinned snapshot.
 */
export async function planTag(
  repo: TagRepo,
  snapshotOrId: SnapshotRecord | string,
  request: TagRequest,
): Promise<TagPlan> {
  const snapshot = await repo.loadSnapshot(typeof snapshotOrId === 'string' ? snapshotOrId : snapshotOrId.id);
  const remove = request.remove === true;
  if (request.label === undefined && request.pinned === undefined && !remove)
    throw new BackupError('USAGE', 'Give a label, a pin or unpin, or delete.');
  if (remove && request.label !== undefined)
    throw new BackupError('USAGE', 'A snapshot is deleted or labelled, not both.');
  if (request.autoLabel && !request.label?.trim()) throw new BackupError('USAGE', 'An automatic label needs its text.');
  const label = request.label?.trim();
  if (label !== undefined && label.length > MAX_LABEL)
    throw new BackupError('USAGE', `A label is at most ${MAX_LABEL} characters.`);
  const pinnedNow = snapshot.pinned === true;
  const pinned = request.pinned === undefined ? pinnedNow : request.pinned;
  if (remove && pinned)
    throw new BackupError('USAGE', `Snapshot ${snapshot.id.slice(0, 8)} is pinned; unpin it before deleting it.`, {
      id: snapshot.id,
    });
  const plan: TagPlan = {
    snapshot,
    // A label the user sets is always written (it ends an automatic one even when the text is the same).
    ...(label !== undefined
      ? { label: { from: snapshot.label, to: label || undefined, ...(request.autoLabel ? { auto: true } : {}) } }
      : {}),
    ...(request.pinned !== undefined ? { pinned: { from: pinnedNow, to: pinned } } : {}),
    remove,
    lock: 'shared',
    record: `snapshots/${snapshot.id}`,
  };
  stores.set(plan, repo);
  return plan;
}

/** Makes the plan's changes under one shared lock, from the record as it is then (another window may have labelled it meanwhile). */
export async function applyTag(plan: TagPlan): Promise<TagResult> {
  const repo = stores.get(plan);
  if (!repo) throw new BackupError('USAGE', 'This plan was not made by planTag.');
  const id = plan.snapshot.id;
  const lock = await repo.lock(false, `${plan.remove ? 'deleting' : 'annotating'} snapshot ${id.slice(0, 8)}`);
  try {
    const record = await repo.loadSnapshot(id);
    const pinned = plan.pinned ? plan.pinned.to : record.pinned === true;
    if (plan.remove) {
      if (pinned)
        throw new BackupError('USAGE', `Snapshot ${id.slice(0, 8)} is pinned; unpin it before deleting it.`, { id });
      await repo.removeSnapshot(id);
      return { removed: true };
    }
    // An automatic label never replaces a label the record has (another window may have set one meanwhile).
    const keptLabel = plan.label?.auto === true && record.label !== undefined;
    if (keptLabel && !plan.pinned) return { record, removed: false, keptLabel };
    const updated: SnapshotRecord = { ...record };
    if (plan.label?.auto) {
      if (!keptLabel) Object.assign(updated, { label: plan.label.to, autoLabel: true });
    } else if (plan.label) {
      if (plan.label.to) updated.label = plan.label.to;
      else delete updated.label;
      // A label the user set (or cleared) is theirs: retention keeps it for good, not for the automatic label's time.
      delete updated.autoLabel;
    }
    if (pinned) updated.pinned = true;
    else delete updated.pinned;
    await repo.saveSnapshot(updated);
    return { record: updated, removed: false, ...(keptLabel ? { keptLabel } : {}) };
  } finally {
    await lock.release();
  }
}
