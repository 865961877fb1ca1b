// The Backend contract, run unchanged against every backend: LocalBackend on a temp folder and SftpBackend
// against a real OpenSSH server. A backend that passes these may carry a store and be a replication target.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../../src/core/storage/backend';
import { nodeFs } from '../../src/core/storage/fsPort';
import { backendFor } from '../../src/core/storage/locate';
import { MiB, rejectionCode, seededBytes, useTempDirs } from './helpers/fixtures';
import { useSshd } from './helpers/sshd';

interface Subject {
  /** A backend on a new store folder, its layout created, and that folder's local path. */
  make(): Promise<{ backend: Backend; dir: string }>;
}

function contract(name: string, subject: () => Subject): void {
  describe(`Backend contract: ${name}`, function () {
    this.timeout(60_000);
    let backend: Backend;
    let dir: string;
    beforeEach(async () => {
      ({ backend, dir } = await subject().make());
    });
    afterEach(async () => {
      await backend.close?.();
    });

    it('saves, loads, replaces, and saves a value given as many buffers', async () => {
      await backend.save('snapshots/a', Buffer.from('one'));
      assert.equal((await backend.load('snapshots/a')).toString(), 'one');
      await backend.save('snapshots/a', [Buffer.from('tw'), Buffer.from(''), Buffer.from('o!')]);
      assert.equal((await backend.load('snapshots/a')).toString(), 'two!');
      assert.equal(await backend.size('snapshots/a'), 4);
      await backend.save('index/empty', Buffer.alloc(0));
      assert.equal((await backend.load('index/empty')).length, 0);
    });

    it('save is atomic: readers racing with replacements see one whole value or the other, never a mix', async () => {
      const a = seededBytes(2 * MiB, 1);
      const b = seededBytes(2 * MiB + 3, 2);
      await backend.save('snapshots/race', a);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; i < 8; i++) await backend.save('snapshots/race', i % 2 === 0 ? b : a, { durable: false });
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const got = await backend.load('snapshots/race');
        assert.ok(got.equals(a) || got.equals(b), `read ${reads} saw ${got.length} bytes that are neither value`);
        reads++;
      }
      await writer;
      assert.ok(reads > 0);
      assert.deepEqual(await backend.list('snapshots'), ['snapshots/race'], 'no temp file is listed or left');
    });

    it('createOnce: of many racing creators exactly one wins, and every one gets the winner back', async () => {
      const values = Array.from({ length: 8 }, (_, i) => Buffer.from(`creator ${i}`));
      const results = await Promise.all(values.map((v) => backend.createOnce('locks/claim-x', v)));
      const winners = results.filter((r, i) => r === values[i]);
      assert.equal(winners.length, 1, 'one creator got its own value back');
      for (const r of results) assert.ok(r.equals(winners[0]));
      assert.ok((await backend.load('locks/claim-x')).equals(winners[0]));
      // An existing key is never overwritten.
      const again = await backend.createOnce('locks/claim-x', Buffer.from('late'));
      assert.ok(again.equals(winners[0]));
      assert.deepEqual(await backend.list('locks'), ['locks/claim-x'], 'temp files of the losers are gone');
    });

    it('lists keys per kind (data across its fan-out, meta with its sub-folders), never temp files', async () => {
      await backend.save('data/ab/ab01', Buffer.from('p1'));
      await backend.save('data/ff/ff02', Buffer.from('p22'));
      await backend.save('index/i1', Buffer.from('i'));
      await backend.save('meta/archives/0123', Buffer.from('m'));
      await backend.save('meta/replica-x', Buffer.from('r'));
      // Leftovers of a crashed writer, as atomic.ts names them.
      fs.writeFileSync(path.join(dir, 'data', 'ab', 'ab03.tmp-dead1'), 'partial');
      fs.writeFileSync(path.join(dir, 'index', 'i2.tmp-dead2'), 'partial');
      fs.writeFileSync(path.join(dir, 'meta', 'archives', '0456.tmp-dead3'), 'partial');
      assert.deepEqual((await backend.list('data')).sort(), ['data/ab/ab01', 'data/ff/ff02']);
      assert.deepEqual(await backend.list('index'), ['index/i1']);
      assert.deepEqual((await backend.list('meta')).sort(), ['meta/archives/0123', 'meta/replica-x']);
      assert.deepEqual(await backend.list('snapshots'), []);
      const sizes = await backend.sizes?.('data');
      assert.deepEqual(sizes && [...sizes].sort(), [
        ['data/ab/ab01', 2],
        ['data/ff/ff02', 3],
      ]);
    });

    it('removes temp files left by crashed writers, and only those', async () => {
      await backend.save('data/ab/ab01', Buffer.from('p1'));
      fs.writeFileSync(path.join(dir, 'data', 'ab', 'ab03.tmp-dead1'), 'partial');
      fs.writeFileSync(path.join(dir, 'snapshots', 's.tmp-dead2'), 'partial');
      assert.equal(await backend.removeStaleTemps?.(3600_000), 0, 'young temps may belong to a live writer');
      assert.equal(await backend.removeStaleTemps?.(0), 2);
      assert.ok(!fs.existsSync(path.join(dir, 'data', 'ab', 'ab03.tmp-dead1')));
      assert.ok(fs.existsSync(path.join(dir, 'data', 'ab', 'ab01')));
    });

    it('remove is idempotent', async () => {
      await backend.save('snapshots/gone', Buffer.from('x'));
      await backend.remove('snapshots/gone');
      await backend.remove('snapshots/gone');
      await backend.remove('data/00/never-was');
      assert.equal(await backend.size('snapshots/gone'), undefined);
    });

    it('loadRange reads at an offset, across request sizes, and says "truncated" past the end', async () => {
      const pack = seededBytes(3 * MiB + 17, 7);
      await backend.save('data/12/pack', pack);
      for (const [offset, length] of [
        [0, 1],
        [5, 100],
        [1000, 1 * MiB + 5],
        [pack.length - 10, 10],
      ]) {
        assert.ok(
          (await backend.loadRange('data/12/pack', offset, length)).equals(pack.subarray(offset, offset + length)),
          `range ${offset}+${length}`,
        );
      }
      assert.ok((await backend.load('data/12/pack')).equals(pack));
      const short = await rejectionCode(() => backend.loadRange('data/12/pack', pack.length - 10, 11));
      assert.equal(short.code, 'OBJECT_DAMAGED');
      assert.match(short.message, /truncated/);
    });

    it('a missing key is OBJECT_MISSING for load and loadRange, undefined for size', async () => {
      for (const load of [
        () => backend.load('snapshots/none'),
        () => backend.loadRange('data/00/none', 0, 1),
        () => backend.load('data/zz/none'),
      ]) {
        const { code, message } = await rejectionCode(load);
        assert.equal(code, 'OBJECT_MISSING');
        assert.match(message, /is missing/);
      }
      assert.equal(await backend.size('snapshots/none'), undefined);
    });

    it('recreates a fan-out folder that went missing', async () => {
      fs.rmSync(path.join(dir, 'data', '7f'), { recursive: true });
      await backend.save('data/7f/7f00', Buffer.from('back'));
      assert.equal((await backend.load('data/7f/7f00')).toString(), 'back');
    });
  });
}

describe('backends', () => {
  const dirs = useTempDirs();
  contract('LocalBackend', () => ({
    async make() {
      const dir = path.join(dirs.make('local-backend'), 'store');
      const backend = await backendFor(dir, nodeFs);
      await backend.createLayout?.();
      // A store has its config: without one, a missing folder means the store is gone, and is not made again.
      await backend.save('config', Buffer.from('a store config\n'));
      return { backend, dir };
    },
  }));

  const sshd = useSshd();
  contract('SftpBackend (OpenSSH)', () => ({
    async make() {
      const dir = path.join(sshd().folder('contract'), 'store');
      const backend = await backendFor(sshd().url(dir), nodeFs, sshd().remote());
      await backend.createLayout?.();
      return { backend, dir };
    },
  }));
});
