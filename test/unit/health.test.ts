// 3-2-1 health: copies, distinct media (real devices: a tmpfs folder is another medium than the temp
// disk), offsite marks, freshness of replications and verifies, encryption, the fix offered for each gap,
// and `project-backup status` printing the same report from what the store remembers (verify and
// replication records).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assessHealth, healthSummary, mediumOf } from '../../src/core/health/health';
import type { HealthInput, HealthReport } from '../../src/core/health/health';
import { destinationKey } from '../../src/core/health/gather';
import { VERIFY_RECORD_KEY, loadVerifyRecord, saveVerifyRecord } from '../../src/core/records/verifyRecord';
import { replicate } from '../../src/core/replicate/replicate';
import { nodeFs } from '../../src/core/storage/fsPort';
import { openRepo, runCliCaptured, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

const NOW = new Date('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;

function input(dirs: { workspace: string; store: string }, extra: Partial<HealthInput> = {}): HealthInput {
  return {
    workspace: dirs.workspace,
    store: dirs.store,
    lastSnapshot: new Date(NOW.getTime() - HOUR).toISOString(),
    snapshotCount: 3,
    lastVerify: { time: new Date(NOW.getTime() - 2 * HOUR).toISOString(), ok: true },
    encrypted: false,
    destinations: [],
    now: NOW,
    ...extra,
  };
}

const gapIds = (report: HealthReport) => report.gaps.map((g) => g.id).sort();

/** `dir` made to look like a destination that received a copy: health reads only that its config is there. */
function holdingCopy(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config'), 'a store config\n');
  return dir;
}

/** A folder on another device than the temp folder (tmpfs), when the machine has one. */
function otherDeviceRoot(): string | undefined {
  // The test temp dir may be a tmpfs (npm test puts it on /dev/shm) or a disk: look on both.
  for (const candidate of ['/dev/shm', '/run/shm', '/var/tmp', '/tmp']) {
    try {
      if (fs.statSync(candidate).isDirectory() && fs.statSync(candidate).dev !== fs.statSync(os.tmpdir()).dev)
        return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

describe('3-2-1 health', () => {
  const temp = useTempDirs();
  let dirs: { workspace: string; store: string };
  beforeEach(() => {
    dirs = { workspace: temp.make('ws'), store: temp.make('store') };
  });

  it('a workspace with no snapshot has one copy and every gap, starting with "snapshot now"', async () => {
    const report = await assessHealth(
      input(dirs, { snapshotCount: 0, lastSnapshot: undefined, lastVerify: undefined }),
      nodeFs,
    );
    assert.equal(report.copies, 1);
    assert.equal(report.meets321, false);
    assert.deepEqual(gapIds(report), ['copies', 'media', 'noSnapshot', 'offsite']);
    assert.equal(report.gaps.find((g) => g.id === 'noSnapshot')?.fix, 'snapshotNow');
    assert.equal(report.locations.find((l) => l.kind === 'store')?.counts, false);
  });

  it('the workspace and a store on the same disk are two copies on one medium', async () => {
    const report = await assessHealth(input(dirs), nodeFs);
    assert.equal(report.copies, 2);
    assert.equal(report.media, 1);
    assert.equal(report.offsite, false);
    assert.deepEqual(gapIds(report), ['copies', 'media', 'offsite']);
    assert.equal(report.gaps.find((g) => g.id === 'copies')?.fix, 'addDestination');
    assert.equal(report.gaps.find((g) => g.id === 'offsite')?.fix, 'addOffsiteDestination');
    assert.match(healthSummary(report), /^3-2-1 not met: 2 of 3 copies · 1 of 2 media · no offsite copy$/);
  });

  it('a replicated destination on another device is a third copy on a second medium; marked offsite it completes 3-2-1', async function () {
    const root = otherDeviceRoot();
    if (!root) this.skip(); // every folder here is on one device
    const destination = holdingCopy(fs.mkdtempSync(path.join(root!, 'pb-health-')));
    try {
      const replicated = new Date(NOW.getTime() - HOUR / 2).toISOString();
      const onsite = await assessHealth(
        input(dirs, { destinations: [{ location: destination, lastReplication: replicated }] }),
        nodeFs,
      );
      assert.equal(onsite.copies, 3);
      assert.equal(onsite.media, 2);
      assert.notEqual(await mediumOf(nodeFs, destination), await mediumOf(nodeFs, dirs.store));
      assert.deepEqual(gapIds(onsite), ['offsite']);

      const offsite = await assessHealth(
        input(dirs, { destinations: [{ location: destination, lastReplication: replicated, offsite: true }] }),
        nodeFs,
      );
      assert.equal(offsite.meets321, true);
      // An unencrypted store with a copy on someone else's disk: the one gap left is encryption.
      assert.deepEqual(gapIds(offsite), ['encryption']);
      assert.equal(offsite.gaps[0].fix, 'encryptStore');
      const encrypted = await assessHealth(
        input(dirs, {
          encrypted: true,
          destinations: [{ location: destination, lastReplication: replicated, offsite: true }],
        }),
        nodeFs,
      );
      assert.deepEqual(gapIds(encrypted), []);
      assert.match(healthSummary(encrypted), /^3-2-1 met/);
    } finally {
      fs.rmSync(destination, { recursive: true, force: true });
    }
  });

  it('an offsite destination is a medium of its own even on the local disk (a cloud-synced folder)', async () => {
    const synced = holdingCopy(temp.make('synced'));
    const report = await assessHealth(
      input(dirs, { destinations: [{ location: synced, offsite: true, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(report.copies, 3);
    assert.equal(report.media, 2);
    assert.equal(report.offsite, true);
  });

  it("a folder marked offsite on the store's own disk is warned about, though it still counts (#12); one on another device is not", async function () {
    const sameDisk = holdingCopy(temp.make('not-really-offsite'));
    const report = await assessHealth(
      input(dirs, { destinations: [{ location: sameDisk, offsite: true, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    const dest = report.locations.find((l) => l.kind === 'destination')!;
    assert.equal(
      dest.warning,
      'marked offsite, but on the same disk as the store: right for a cloud-synced folder, not for a plain one',
    );
    assert.equal(dest.counts, true);
    const onsite = await assessHealth(
      input(dirs, { destinations: [{ location: sameDisk, offsite: false, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(
      onsite.locations.find((l) => l.kind === 'destination')!.warning,
      undefined,
      'an onsite folder on the same disk is no surprise',
    );
    const root = otherDeviceRoot();
    if (!root) this.skip(); // one device only: nothing to compare with
    const elsewhere = holdingCopy(fs.mkdtempSync(path.join(root, 'pb-offsite-')));
    try {
      const far = await assessHealth(
        input(dirs, { destinations: [{ location: elsewhere, offsite: true, lastReplication: NOW.toISOString() }] }),
        nodeFs,
      );
      assert.equal(far.locations.find((l) => l.kind === 'destination')!.warning, undefined);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a destination never replicated to, or behind the latest snapshot, is flagged with "replicate now"', async () => {
    const never = holdingCopy(temp.make('never'));
    const a = await assessHealth(input(dirs, { destinations: [{ location: never }] }), nodeFs);
    const dest = a.locations.find((l) => l.kind === 'destination')!;
    assert.equal(dest.counts, false);
    assert.equal(dest.note, 'never replicated');
    assert.equal(a.gaps.find((g) => g.id === 'copies')?.fix, 'replicateNow');

    const behind = await assessHealth(
      input(dirs, {
        destinations: [{ location: never, lastReplication: new Date(NOW.getTime() - 5 * HOUR).toISOString() }],
      }),
      nodeFs,
    );
    assert.equal(behind.copies, 3);
    assert.equal(behind.locations.find((l) => l.kind === 'destination')?.upToDate, false);
    assert.equal(behind.gaps.find((g) => g.id === 'replication')?.fix, 'replicateNow');
  });

  it("a destination last copied before this workspace's first snapshot holds none of it (stores are shared)", async () => {
    const shared = holdingCopy(temp.make('shared-dest'));
    const firstSnapshot = new Date(NOW.getTime() - 2 * HOUR).toISOString();
    const before = await assessHealth(
      input(dirs, {
        firstSnapshot,
        destinations: [{ location: shared, lastReplication: new Date(NOW.getTime() - 3 * HOUR).toISOString() }],
      }),
      nodeFs,
    );
    assert.equal(before.copies, 2);
    assert.equal(
      before.locations.find((l) => l.kind === 'destination')?.note,
      'holds no snapshot of this workspace yet',
    );
    const after = await assessHealth(
      input(dirs, { firstSnapshot, destinations: [{ location: shared, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(after.copies, 3);
  });

  it('a folder destination whose drive is not connected does not count, and says so', async () => {
    const gone = path.join(temp.make('mnt'), 'usb-drive', 'backups');
    const report = await assessHealth(
      input(dirs, { destinations: [{ location: gone, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(report.copies, 2);
    assert.match(report.locations.find((l) => l.kind === 'destination')!.note!, /not reachable/);
  });

  it("a folder destination that received a copy and is empty now (an unplugged drive's mount point) does not count either", async () => {
    const mountPoint = temp.make('media-usb');
    const emptied = await assessHealth(
      input(dirs, { destinations: [{ location: mountPoint, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(emptied.copies, 2);
    assert.equal(emptied.locations.find((l) => l.kind === 'destination')!.note, 'not reachable (drive not connected?)');
    holdingCopy(mountPoint);
    const back = await assessHealth(
      input(dirs, { destinations: [{ location: mountPoint, lastReplication: NOW.toISOString() }] }),
      nodeFs,
    );
    assert.equal(back.copies, 3);
  });

  it('an SFTP destination is offsite by default and its medium is its host; a failed last attempt is shown', async () => {
    const report = await assessHealth(
      input(dirs, {
        destinations: [
          {
            location: 'sftp://me@backup.example.net/~/store',
            lastReplication: NOW.toISOString(),
            lastError: 'connection refused',
          },
        ],
      }),
      nodeFs,
    );
    const dest = report.locations.find((l) => l.kind === 'destination')!;
    assert.equal(dest.offsite, true);
    assert.equal(dest.medium, 'remote:backup.example.net');
    assert.match(dest.note!, /last replication failed: connection refused/);
    assert.equal(report.copies, 3);
  });

  it('verify gaps: never verified, damage found, and too old', async () => {
    const never = await assessHealth(input(dirs, { lastVerify: undefined }), nodeFs);
    assert.equal(never.gaps.find((g) => g.id === 'verify')?.message, 'The store has never been verified.');
    const damaged = await assessHealth(input(dirs, { lastVerify: { time: NOW.toISOString(), ok: false } }), nodeFs);
    assert.equal(damaged.gaps.find((g) => g.id === 'verify')?.fixLabel, 'Verify again');
    const old = await assessHealth(
      input(dirs, { lastVerify: { time: new Date(NOW.getTime() - 40 * 24 * HOUR).toISOString(), ok: true } }),
      nodeFs,
    );
    assert.equal(old.gaps.find((g) => g.id === 'verify')?.fix, 'verifyNow');
    const stale = await assessHealth(input(dirs, { staleAfterHours: 0.5 }), nodeFs);
    assert.equal(stale.gaps.find((g) => g.id === 'staleSnapshot')?.fix, 'snapshotNow');
  });

  it('a destination written with a trailing slash or a password in its URL is the same destination', () => {
    assert.equal(destinationKey('/mnt/backup/'), destinationKey('/mnt/backup'));
    assert.equal(destinationKey('sftp://me:secret@host/~/b/'), destinationKey('sftp://me@host/~/b'));
    assert.ok(!destinationKey('sftp://me:secret@host/~/b').includes('secret'));
  });

  describe('records and `status`', () => {
    it('remembers the last verify in the store, sealed, and reads a damaged record as "never"', async () => {
      const repo = await openRepo(dirs.store, { create: true });
      assert.equal(await loadVerifyRecord(repo), undefined);
      await saveVerifyRecord(repo, { time: NOW.toISOString(), ok: true, damaged: 0, snapshots: 2, readData: true });
      assert.deepEqual(await loadVerifyRecord(repo), {
        time: NOW.toISOString(),
        ok: true,
        damaged: 0,
        snapshots: 2,
        readData: true,
      });
      fs.writeFileSync(path.join(dirs.store, ...VERIFY_RECORD_KEY.split('/')), '{not json');
      assert.equal(await loadVerifyRecord(repo), undefined);
    });

    it('`status` reports copies, media, offsite, last snapshot and last verify, as text and JSON', async () => {
      writeTree(dirs.workspace, { 'a.txt': 'alpha\n', 'src/b.ts': 'export {}\n' });
      const repo = await openRepo(dirs.store, { create: true });
      await snapshotterFor(repo, dirs.workspace).snapshot({});

      const before = await runCliCaptured(['status', '--repo', dirs.store, '--workspace', dirs.workspace, '--json']);
      assert.equal(before.code, 0, before.stderr.join('\n'));
      const report = before.json<HealthReport>();
      assert.equal(report.copies, 2);
      assert.equal(report.snapshotCount, 1);
      assert.equal(report.lastVerify, undefined);
      assert.equal(report.encrypted, false);
      assert.ok(report.gaps.some((g) => g.id === 'verify'));

      const verify = await runCliCaptured(['verify', '--repo', dirs.store]);
      assert.equal(verify.code, 0, verify.stderr.join('\n'));
      const after = await runCliCaptured(['status', '--repo', dirs.store, '--workspace', dirs.workspace]);
      assert.equal(after.code, 0);
      const text = after.stdout.join('\n');
      assert.match(text, /^3-2-1 not met: 2 of 3 copies · 1 of 2 media · no offsite copy/);
      assert.match(text, /last verify: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, no damage/);
      assert.match(text, /local store +.*\[counts/);
      assert.match(text, /Fix: project-backup copy --repo/);
      assert.doesNotMatch(text, /The store has never been verified/);
    });

    it('`status` knows every destination the store was replicated to, offsite marks included, without being told', async () => {
      writeTree(dirs.workspace, { 'a.txt': 'alpha\n' });
      const repo = await openRepo(dirs.store, { create: true });
      await snapshotterFor(repo, dirs.workspace).snapshot({});
      const nearby = temp.make('usb');
      const far = temp.make('synced');
      await replicate(repo, nearby);
      await replicate(repo, far, { offsite: true });
      const run = await runCliCaptured(['status', '--repo', dirs.store, '--workspace', dirs.workspace, '--json']);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      const report = run.json<HealthReport>();
      const destinations = report.locations.filter((l) => l.kind === 'destination');
      assert.deepEqual(destinations.map((d) => [d.location, d.offsite, d.counts, d.upToDate]).sort(), [
        [far, true, true, true],
        [nearby, false, true, true],
      ]);
      assert.equal(report.copies, 4);
      assert.equal(report.offsite, true);
      assert.ok(report.lastReplication);
      // A new snapshot puts both destinations behind until the next copy.
      writeTree(dirs.workspace, { 'b.txt': 'beta\n' });
      await snapshotterFor(repo, dirs.workspace).snapshot({});
      const behind = (
        await runCliCaptured(['status', '--repo', dirs.store, '--workspace', dirs.workspace, '--json'])
      ).json<HealthReport>();
      assert.equal(
        behind.gaps.find((g) => g.id === 'replication')?.message,
        '2 destinations are behind the latest snapshot.',
      );
    });

    it('`status` names what is missing in one line and exits non-zero', async () => {
      const usage = await runCliCaptured(['status', '--repo', dirs.store]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr[0], /--workspace/);
      const missing = await runCliCaptured([
        'status',
        '--repo',
        path.join(dirs.store, 'nope'),
        '--workspace',
        dirs.workspace,
      ]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr.length, 1);
      assert.match(missing.stderr[0], /no backup store/i);
    });
  });
});
