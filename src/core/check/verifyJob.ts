// Verify as one use case (#13): planVerify says what will be checked, what it locks and what it records;
// applyVerify checks the store (under a shared lock, taken by the Verifier) and then writes the last-verify
// record that `status` and the editor's health view read. The CLI and the editor only ask and print.
// Invariant: a verify that ran is never lost to its record: failing to write the record (a store we may
// only read, a full disk) is reported beside the result, never instead of it.

import { BackupError } from '../errors';
import { saveVerifyRecord, VERIFY_RECORD_KEY } from '../records/verifyRecord';
import type { VerifyRecord } from '../records/verifyRecord';
import type { MetaStore } from '../records/metaStore';
import { verifyRepository } from './verify';
import type { VerifyOptions, VerifyRepo, VerifyReport } from './verify';

/** What verify needs of a store: reading it as it is on disk, its shared lock, and writing its meta/ record. */
export type VerifyJobRepo = VerifyRepo & MetaStore;

export interface VerifyPlan {
  location: string;
  /** Re-read every pack in full (true), a share of them in percent, or only check that every object is there (false). */
  readData: boolean | number;
  /** The lock the job holds while it reads: shared, so snapshots go on and prune waits. */
  lock: 'shared';
  /** The record it writes when done (skipped, with a note, on a store that cannot be written). */
  record: typeof VERIFY_RECORD_KEY;
}

export interface VerifyOutcome {
  report: VerifyReport;
  /** The record written; undefined on a store we may only read, or when writing failed (see `recordError`). */
  record?: VerifyRecord;
  /** Why the record was not written: the result stands, only `status` will not show it. */
  recordError?: string;
}

/** The store each plan was made for: the plan itself stays a plain object to show. */
const stores = new WeakMap<VerifyPlan, VerifyJobRepo>();

/** Checks the request before anything is read: USAGE for both --read-data and a subset, or a share outside 0-100. */
export function planVerify(
  repo: VerifyJobRepo,
  request: { readData?: boolean; readDataSubset?: number } = {},
): VerifyPlan {
  const subset = request.readDataSubset;
  if (request.readData && subset !== undefined)
    throw new BackupError('USAGE', 'Verify reads every pack or a share of them, not both.');
  if (subset !== undefined && !(Number.isFinite(subset) && subset >= 0 && subset <= 100)) {
    throw new BackupError('USAGE', `The share of packs to read must be a percentage from 0 to 100, not ${subset}.`, {
      readDataSubset: subset,
    });
  }
  const plan: VerifyPlan = {
    location: repo.location,
    readData: request.readData === true ? true : (subset ?? false),
    lock: 'shared',
    record: VERIFY_RECORD_KEY,
  };
  stores.set(plan, repo);
  return plan;
}

/** Checks the store as the plan says (under a shared lock), then writes the last-verify record. */
export async function applyVerify(
  plan: VerifyPlan,
  options: Pick<VerifyOptions, 'signal' | 'onProgress' | 'random'> & { now?: () => Date } = {},
): Promise<VerifyOutcome> {
  const repo = stores.get(plan);
  if (!repo) throw new BackupError('USAGE', 'This verify plan was not made by planVerify.');
  const report = await verifyRepository(repo, {
    ...options,
    readData: plan.readData === true,
    readDataSubset: typeof plan.readData === 'number' ? plan.readData : undefined,
  });
  // A store we may only read (a mounted copy) is verified all the same; it simply keeps no record.
  if (repo.readOnly) return { report };
  const record: VerifyRecord = {
    time: (options.now?.() ?? new Date()).toISOString(),
    ok: report.ok,
    damaged: report.damage.length,
    snapshots: report.snapshots,
    readData: plan.readData,
  };
  try {
    await saveVerifyRecord(repo, record);
    return { report, record };
  } catch (error) {
    return { report, recordError: error instanceof Error ? error.message : String(error) };
  }
}
