// Labels, pins and removal of snapshot records, one call each: each is the tag job (tagJob.ts: planTag, then
// applyTag), which owns the record update. Only the record changes (atomically); the data it names is
// untouched, and a removed snapshot's data stays until prune finds nothing else needs it.
// Invariant: each takes a shared lock of its own (#13), so a prune, which holds the store alone, never runs
// while a record it is deciding about is rewritten; callers take none.

import type { SnapshotRecord } from '../repository/snapshotRecord';
import { MAX_LABEL, applyTag, planTag } from './tagJob';
import type { TagRepo, TagRequest, TagResult } from './tagJob';

/** Sets or clears (empty string) a snapshot's label; returns the updated record. */
export async function setLabel(repo: TagRepo, id: string, label: string): Promise<SnapshotRecord> {
  return (await tag(repo, id, { label })).record as SnapshotRecord;
}

/**
 * Marks a notable moment with an automatic label ("before switching to main"), unless the snapshot already
 * has a label: a user's label is never replaced, and labels never stack. Returns the record when it was
 * labelled, undefined when it kept its own.
 */
export async function setAutoLabel(repo: TagRepo, id: string, label: string): Promise<SnapshotRecord | undefined> {
  const trimmed = label.trim().slice(0, MAX_LABEL);
  if (!trimmed) return undefined;
  const result = await tag(repo, id, { label: trimmed, autoLabel: true });
  return result.keptLabel ? undefined : result.record;
}

/** Pins (retention always keeps it) or unpins a snapshot; returns the updated record. */
export async function setPinned(repo: TagRepo, id: string, pinned: boolean): Promise<SnapshotRecord> {
  return (await tag(repo, id, { pinned })).record as SnapshotRecord;
}

/** Removes a snapshot record; pinned snapshots must be unpinned first, so a pin is never lost by a stray click. */
export async function removeSnapshot(repo: TagRepo, id: string): Promise<void> {
  await tag(repo, id, { remove: true });
}

/** One tag job (tagJob.ts): checked against the record as it is, written once under its shared lock. */
async function tag(repo: TagRepo, id: string, request: TagRequest): Promise<TagResult> {
  return applyTag(await planTag(repo, id, request));
}

/**
 * The end of the "nothing changed" sentence when a snapshot's label or pin went to the existing snapshot
 * that holds this state (Snapshotter's `annotated`); empty when there was none.
 */
export function annotatedText(
  annotated: { label?: string; previousLabel?: string; pinned?: boolean } | undefined,
): string {
  if (!annotated) return '';
  const what: string[] = [];
  if (annotated.label !== undefined)
    what.push(
      `labelled "${annotated.label}"${annotated.previousLabel ? ` (it was "${annotated.previousLabel}")` : ''}`,
    );
  if (annotated.pinned) what.push('pinned');
  return what.length ? `; that snapshot is now ${what.join(' and ')}` : '';
}
