// Small facts a store keeps about itself for the health view and `status`: when it was last verified and
// with what result. Stored as a sealed record under `meta/` (unreadable in an encrypted store), written
// after the work it describes. Invariant: a missing or damaged record reads as "never", never as an error.

import { isBackupError } from '../errors';
import type { Repository } from '../repository/repository';

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

export async function saveVerifyRecord(repo: Repository, record: VerifyRecord): Promise<void> {
  await repo.backend.save(VERIFY_RECORD_KEY, repo.codec.seal(Buffer.from(JSON.stringify(record), 'utf8')));
}

export async function loadVerifyRecord(repo: Repository): Promise<VerifyRecord | undefined> {
  let data: Buffer;
  try {
    data = await repo.backend.load(VERIFY_RECORD_KEY);
  } catch (error) {
    if (isBackupError(error, 'OBJECT_MISSING')) return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(repo.codec.open(data, 'The last verify record').toString('utf8')) as Partial<VerifyRecord>;
    if (typeof parsed.time !== 'string' || Number.isNaN(Date.parse(parsed.time)) || typeof parsed.ok !== 'boolean') return undefined;
    return {
      time: parsed.time,
      ok: parsed.ok,
      damaged: typeof parsed.damaged === 'number' ? parsed.damaged : 0,
      snapshots: typeof parsed.snapshots === 'number' ? parsed.snapshots : 0,
      readData: typeof parsed.readData === 'number' || typeof parsed.readData === 'boolean' ? parsed.readData : false,
    };
  } catch {
    return undefined; // a damaged record only loses the date of the last verify
  }
}
