// Bringing a lost local store back from a destination (core/replicate/bringBack.ts), from a folder and from a
// real OpenSSH server: the whole history under the same id, snapshots continuing it, the destination still
// receiving; nothing written into the copy; a folder holding anything else refused before a byte is written.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyRepository } from '../../src/core/check/verify';
import { probeCopy } from '../../src/core/health/copies';
import { bringBack, planBringBack } from '../../src/core/replicate/bringBack';
import { loadReplicaRecords } from '../../src/core/records/replicaRecord';
import { replicate } from '../../src/core/replicate/replicate';
import { Repository } from '../../src/core/repository/repository';
import { nodeFs } from '../../src/core/storage/fsPort';
import { LocalBackend } from '../../src/core/storage/localBackend';
import {
  openRepo,
  rejectionCode,
  removeDir,
  seededText,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import { copiedKeys, sourceStore } from './helpers/replication';
import { useSshd } from './helpers/sshd';

/** Every file under a folder with its size, locks left out (a reader's lock comes and goes). */
function listing(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((name) => !name.split(path.sep).includes('locks') && fs.statSync(path.join(dir, name)).isFile())
    .map((name) => `${name}:${fs.statSync(path.join(dir, name)).size}`)
    .sort();
}

describe('bringing a lost store back from a destination (#12)', function () {
  this.timeout(120_000);
  const temp = useTempDirs();

  /** A store with two snapshots copied to a folder destination, then deleted locally. */
  async function lostStore(): Promise<{
    ws: string;
    local: string;
    copy: string;
    ids: string[];
    id: string;
    keys: string[];
  }> {
    const { repo, dir: local, ws } = await sourceStore(temp);
    const copy = temp.fresh('usb-copy');
    await replicate(repo, copy);
    const ids = (await repo.listSnapshots()).map((s) => s.id);
    const keys = await copiedKeys(repo.backend);
    const id = repo.config.id;
    await repo.close();
    removeDir(local);
    return { ws, local, copy, ids, id, keys };
  }

  it('brings the whole history back under the same id; the next snapshot continues it and the destination keeps receiving', async () => {
    const { ws, local, copy, ids, id, keys } = await lostStore();
    const source = await Repository.open(copy);
    const plan = await planBringBack(source, local);
    assert.deepEqual(
      [plan.from, plan.to, plan.storeId, plan.snapshots, plan.present, plan.objects],
      [copy, local, id, 2, 0, keys.length],
    );
    const result = await bringBack(source, plan);
    assert.equal(result.objectsCopied, keys.length, 'the counts are what was copied');
    assert.equal(result.snapshots, 2);
    await source.close();

    const back = await Repository.open(local);
    assert.equal(back.config.id, id, 'not the same store');
    assert.deepEqual(
      (await back.listSnapshots()).map((s) => s.id),
      ids,
    );
    assert.ok((await verifyRepository(back, { readData: true })).ok, 'the store brought back does not verify');
    writeTree(ws, { 'after.txt': seededText(3000, 9) });
    const next = await snapshotterFor(back, ws).snapshot();
    assert.equal(next.snapshot.parent, ids[1], 'the next snapshot does not continue the history');
    const again = await replicate(back, copy);
    assert.equal(again.snapshots, 3, 'the destination did not receive the new snapshot');
    await back.close();
  });

  it("writes nothing into the copy but a reader's lock: no replica record there", async () => {
    const { local, copy } = await lostStore();
    const before = listing(copy);
    const source = await Repository.open(copy);
    await bringBack(source, await planBringBack(source, local));
    assert.deepEqual(await loadReplicaRecords(source), [], 'the copy got a replica record');
    await source.close();
    assert.deepEqual(listing(copy), before);
  });

  it('completes an interrupted bring-back, and then finds nothing more to bring', async () => {
    const { local, copy, ids, keys } = await lostStore();
    const source = await Repository.open(copy);
    const controller = new AbortController();
    const plan = await planBringBack(source, local);
    let done = 0;
    const onProgress = (p: { objectsDone: number }) => {
      done = p.objectsDone;
      if (done >= 1) controller.abort();
    };
    const interrupted = await rejectionCode(() => bringBack(source, plan, { signal: controller.signal, onProgress }));
    assert.equal(interrupted.code, 'CANCELLED');
    const resumed = await planBringBack(source, local);
    assert.equal(resumed.present, 0, 'records came before the data they need');
    const result = await bringBack(source, resumed);
    assert.equal(result.objectsCopied, keys.length - done, 'the rerun copied again what was already there');
    assert.equal((await planBringBack(source, local)).present, 2);
    await source.close();
    const back = await Repository.open(local);
    assert.deepEqual(
      (await back.listSnapshots()).map((s) => s.id),
      ids,
    );
    await back.close();
  });

  it('refuses a folder holding the store with newer snapshots, another store, or other files, writing nothing', async () => {
    const { ws, local, copy } = await lostStore();
    const source = await Repository.open(copy);
    // The store is back and has moved on: bringing it back again would only resurrect what it forgot.
    await bringBack(source, await planBringBack(source, local));
    const back = await Repository.open(local);
    writeTree(ws, { 'newer.txt': 'newer\n' });
    await snapshotterFor(back, ws).snapshot();
    await back.close();
    const there = await rejectionCode(() => planBringBack(source, local));
    assert.deepEqual(
      [there.code, there.message],
      [
        'USAGE',
        `The store at ${local} is there, with 1 snapshot its copy at ${copy} lacks: there is nothing to bring back (nothing was changed).`,
      ],
    );

    const other = temp.fresh('other-store');
    await (await openRepo(other)).close();
    const before = listing(other);
    const mismatch = await rejectionCode(() => planBringBack(source, other));
    assert.equal(mismatch.code, 'STORE_MISMATCH');
    assert.match(
      mismatch.message,
      /holds another backup store .* choose an empty folder to bring the store back into\.$/,
    );
    assert.deepEqual(listing(other), before);

    const project = temp.make('someones-project');
    fs.writeFileSync(path.join(project, 'notes.md'), 'mine\n');
    const foreign = await rejectionCode(() => planBringBack(source, project));
    assert.deepEqual(
      [foreign.code, foreign.message],
      [
        'REPO_NOT_FOUND',
        `${project} is not empty and holds no backup store; choose an empty or new folder to bring the store back into (nothing was written).`,
      ],
    );
    assert.deepEqual(fs.readdirSync(project), ['notes.md']);

    const remote = await rejectionCode(() => planBringBack(source, 'sftp://me@example.org/backups'));
    assert.equal(remote.code, 'USAGE');
    await source.close();
  });

  it('tells which destinations hold the lost store and how many snapshots, from config and listing alone', async () => {
    const { copy, id } = await lostStore();
    assert.deepEqual(await probeCopy(copy, nodeFs), {
      location: copy,
      holdsStore: true,
      storeId: id,
      encrypted: false,
      snapshots: 2,
    });
    const empty = temp.make('empty-mount-point');
    assert.deepEqual(await probeCopy(empty, nodeFs), { location: empty, holdsStore: false });
    const unreachable = await probeCopy('sftp://me@127.0.0.1:1/backups', nodeFs, {
      agent: false,
      password: 'x',
      timeoutSeconds: 5,
    });
    assert.equal(unreachable.holdsStore, false);
    assert.match(unreachable.error ?? '', /^Cannot reach 127\.0\.0\.1:1: the connection was refused/);
  });

  describe('from an SFTP destination (a real OpenSSH server)', () => {
    const sshd = useSshd();

    it('brings the store back whole, and the server keeps receiving from it', async () => {
      const { repo, dir: local, ws } = await sourceStore(temp);
      const url = sshd().url(path.join(sshd().folder('lost'), 'store'));
      await replicate(repo, url, { remote: sshd().remote() });
      const ids = (await repo.listSnapshots()).map((s) => s.id);
      const keys = await copiedKeys(repo.backend);
      await repo.close();
      removeDir(local);

      const source = await Repository.open(url, { remote: sshd().remote() });
      try {
        const plan = await planBringBack(source, local);
        assert.deepEqual([plan.from, plan.snapshots, plan.objects], [url, 2, keys.length]);
        const result = await bringBack(source, plan);
        assert.equal(result.objectsCopied, keys.length);
      } finally {
        await source.close();
      }
      assert.deepEqual(await copiedKeys(new LocalBackend(local, nodeFs)), keys, 'not every object came back');
      const back = await Repository.open(local);
      assert.deepEqual(
        (await back.listSnapshots()).map((s) => s.id),
        ids,
      );
      writeTree(ws, { 'after-sftp.txt': 'after\n' });
      await snapshotterFor(back, ws).snapshot();
      const again = await replicate(back, url, { remote: sshd().remote() });
      assert.equal(again.snapshots, 3);
      await back.close();
    });
  });
});
