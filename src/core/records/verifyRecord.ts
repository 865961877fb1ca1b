// Small facts a store keeps about itself for the health view and `status`: when it was last verified and
// with what result. Stored as a sealed record under `meta/` (unreadable in an encrypted store), written
// after the work it describes. Invariant: a missing or damaged record reads as "never", never as an error.

import { loadMeta, saveMeta } from './metaStore';
import type { MetaStore } from './metaStore';

export const VERIFY_RECORD_KEY = 'meta/last-verify';

export interface VerifyRecord {
  time: string;
  ok: boolean;
  /** Damaged or missing objects found. */
  damaged: number;
  snapshots: number;
  /** Whether pack contents were re-read (all, or the percentage of a subset). */
  readData: boolean | number;
}

export async function saveVerifyRecord(repo: MetaStore, record: VerifyRecord): Promise<void> {
  await saveMeta(repo, VERIFY_RECORD_KEY, record);
}

function validate(value: unknown): VerifyRecord | undefined {
  const parsed = value as Partial<VerifyRecord> | null;
  if (
    !parsed ||
    typeof parsed.time !== 'string' ||
    Number.isNaN(Date.parse(parsed.time)) ||
    typeof parsed.ok !== 'boolean'
  )
    return undefined;
  return {
    time: parsed.time,
    ok: parsed.ok,
    damaged: typeof parsed.damaged === 'number' ? parsed.damaged : 0,
    snapshots: typeof parsed.snapshots === 'number' ? parsed.snapshots : 0,
    readData: typeof parsed.readData === 'number' || typeof parsed.readData === 'boolean' ? parsed.readData : false,
  };
}

/** A damaged record only loses the date of the last verify: it reads as "never". */
export function loadVerifyRecord(repo: MetaStore): Promise<VerifyRecord | undefined> {
  return loadMeta(repo, VERIFY_RECORD_KEY, 'The last verify record', validate);
}
