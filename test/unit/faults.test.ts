// Fault injection through the one FsPort (restic local_internal_test.go, kopia blobtesting/faulty.go):
// ENOSPC, EACCES and EIO at every write a snapshot or a restore makes, in turn. Whatever fails, the user
// gets one sentence (a BackupError naming what failed; the CLI exits 1 with one line), no half-written
// snapshot becomes visible, the workspace is untouched, a restored file is old or new and never partial,
// nothing is left behind (temp files, locks), and a retry once the fault is gone succeeds.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli';
import type { Io } from '../../src/cli/context';
import { BackupError, isBackupError } from '../../src/core/errors';
import type { BackupErrorCode } from '../../src/core/errors';
import { Repository } from '../../src/core/repository/repository';
import { entryAt } from '../../src/core/query/browse';
import { Restorer } from '../../src/core/restore/restorer';
import type { RestoreResult } from '../../src/core/restore/restorer';
import type { Snapshotter } from '../../src/core/snapshot/snapshotter';
import { isTempName } from '../../src/core/storage/atomic';
import type { FsPort } from '../../src/core/storage/fsPort';
import { nodeFs } from '../../src/core/storage/fsPort';
import { LocalBackend } from '../../src/core/storage/localBackend';
import {
  describeTreeDiff,
  expectedTree,
  listAll,
  openRepo,
  readTree,
  seededBytes,
  seededText,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { ReadTree, TreeSpec } from './helpers/fixtures';
import { WRITE_AND_REMOVE_OPS, WRITE_OPS, faultyPort, fsError, trackUnhandledRejections } from './helpers/faultyPort';
import type { FaultCode } from './helpers/faultyPort';

const CODES: readonly FaultCode[] = ['ENOSPC', 'EACCES', 'EIO'];
const EXPECTED: Record<FaultCode, BackupErrorCode> = {
  ENOSPC: 'NO_SPACE',
  EACCES: 'PERMISSION_DENIED',
  EIO: 'IO_ERROR',
};

const BASE: TreeSpec = {
  'README.md': '# project\n',
  'src/index.ts': seededText(3_000, 1),
  'src/lib/util.ts': seededText(5_000, 2),
  'src/lib/old.ts': 'export const old = true;\n',
  'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho run\n' },
  'assets/photo.bin': seededBytes(40_000, 3),
  'assets/big.bin': seededBytes(1_100_000, 4), // just over 1 MiB: chunked, read through an open handle
  'links/readme': { symlink: '../README.md' },
  empty: { dir: true },
};

/** What changes between the base snapshot and the one that meets the fault. */
function edit(ws: string): void {
  fs.writeFileSync(path.join(ws, 'src', 'index.ts'), seededText(3_100, 11));
  fs.rmSync(path.join(ws, 'src', 'lib', 'old.ts'));
  writeTree(ws, { 'src/new/feature.ts': seededText(2_000, 12), 'notes.txt': 'new notes\n' });
  const big = fs.openSync(path.join(ws, 'assets', 'big.bin'), 'r+');
  fs.writeSync(big, seededBytes(4_096, 13), 0, 4_096, 600_000);
  fs.closeSync(big);
}

/** The assertion every failure must pass: one BackupError, one line, the right code, naming a path. */
function assertOneSentence(error: unknown, code: FaultCode, mustName: string, context: string): void {
  if (!isBackupError(error)) {
    const raw = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    assert.fail(`${context}: expected a BackupError, got a raw ${raw}`);
  }
  assert.equal(error.code, EXPECTED[code], `${context}: code of "${error.message}"`);
  assert.doesNotMatch(error.message, /\n/, `${context}: one line`);
  assert.doesNotMatch(error.message, /\bat .*:\d+:\d+/, `${context}: no stack`);
  assert.ok(error.message.includes(mustName), `${context}: "${error.message}" names what failed (under ${mustName})`);
}

interface StoredFile {
  bytes: Buffer;
  mtimeMs: number;
}

/** Files of a store folder with their bytes: a baseline to put the store back to. */
function storeState(dir: string): Map<string, StoredFile> {
  const out = new Map<string, StoredFile>();
  for (const [rel, stat] of storeStats(dir))
    out.set(rel, { bytes: fs.readFileSync(path.join(dir, ...rel.split('/'))), mtimeMs: stat.mtimeMs });
  return out;
}

function storeStats(dir: string): Map<string, fs.Stats> {
  const out = new Map<string, fs.Stats>();
  const walk = (p: string, rel: string) => {
    for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(p, entry.name), r);
      else out.set(r, fs.lstatSync(path.join(p, entry.name)));
    }
  };
  walk(dir, '');
  return out;
}

/** Puts a store back to a baseline: removes what was added, rewrites what changed, brings back what went. */
function resetStore(dir: string, baseline: Map<string, StoredFile>): void {
  const now = storeStats(dir);
  for (const [rel, stat] of now) {
    const before = baseline.get(rel);
    const abs = path.join(dir, ...rel.split('/'));
    if (before === undefined) fs.rmSync(abs);
    else if (stat.size !== before.bytes.length || stat.mtimeMs !== before.mtimeMs) fs.writeFileSync(abs, before.bytes);
  }
  for (const [rel, file] of baseline) {
    if (!now.has(rel)) fs.writeFileSync(path.join(dir, ...rel.split('/')), file.bytes);
  }
}

async function settle(): Promise<void> {
  // Let a rejection nobody awaits reach the unhandledRejection hook before we look.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Captured {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs the CLI in this process with the store opened through `port` (Io.port, the CLI's test seam). */
async function runCliWithPort(argv: string[], port: FsPort): Promise<Captured> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: Io = {
    out: (text) => stdout.push(...text.split('\n')),
    err: (text) => stderr.push(...text.split('\n')),
    write: async () => undefined,
    env: {},
    port,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

function assertCliOneLine(run: Captured, context: string): void {
  assert.equal(run.code, 1, `${context}: exit code (stderr: ${run.stderr.join(' | ')})`);
  assert.equal(run.stderr.length, 1, `${context}: one line on stderr, got:\n${run.stderr.join('\n')}`);
  assert.match(run.stderr[0], /^project-backup: /, context);
  assert.doesNotMatch(
    run.stderr[0],
    /unexpected error|\bat .*:\d+:\d+/,
    `${context}: a sentence of ours, not a raw error`,
  );
}

describe('faults', function () {
  this.timeout(60_000);
  const temp = useTempDirs();
  let unhandled: ReturnType<typeof trackUnhandledRejections>;
  beforeEach(() => {
    unhandled = trackUnhandledRejections();
  });
  afterEach(async () => {
    await settle();
    unhandled.stop();
    const reasons = unhandled.reasons.map((r) => (r instanceof Error ? r.message : String(r)));
    assert.deepEqual(reasons, [], 'no promise was left to reject unhandled');
  });

  /** A workspace with a base snapshot, then edited: the next snapshot is the one that meets the faults. */
  async function snapshotSetup() {
    const ws = temp.make('ws');
    writeTree(ws, BASE);
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const base = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    const baseState = readTree(ws);
    edit(ws);
    const editedState = readTree(ws);
    return { ws, store, base, baseState, editedState, baseline: storeState(store) };
  }

  /** Restores `id` from a freshly opened store into a new folder and compares with `expected`. */
  async function assertRestores(store: string, id: string, expected: ReadTree, context: string): Promise<void> {
    const repo = await Repository.open(store);
    const target = temp.fresh('check');
    const result = await new Restorer(repo).restore(await repo.loadSnapshot(id), { target });
    assert.deepEqual(result.problems, [], `${context}: restore of ${id.slice(0, 8)} has no problems`);
    const diff = describeTreeDiff(readTree(target), expected);
    assert.equal(diff, '', `${context}: snapshot ${id.slice(0, 8)} restores byte-identical:\n${diff}`);
    fs.rmSync(path.dirname(target), { recursive: true, force: true });
  }

  /** What every failed store operation must leave: no temp files, no locks. */
  async function assertNoLeftovers(store: string, context: string): Promise<void> {
    const temps = await new LocalBackend(store, nodeFs).listTemp();
    assert.deepEqual(temps, [], `${context}: temp files left in the store`);
    assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), [], `${context}: locks left in the store`);
  }

  describe('snapshot', () => {
    for (const kind of ['full scan', 'on-save paths'] as const) {
      it(`${kind}: a fault at every write is one BackupError; no half snapshot, workspace untouched, nothing left, retry succeeds`, async () => {
        const { ws, store, base, baseState, editedState, baseline } = await snapshotSetup();
        const request =
          kind === 'full scan'
            ? {}
            : { paths: ['src/index.ts', 'src/lib/old.ts', 'src/new', 'notes.txt', 'assets/big.bin'] };
        // A dry run learns how many writes the snapshot makes.
        const counting = faultyPort();
        const dry = await snapshotterFor(await Repository.open(store, { port: counting }), ws).snapshot(request);
        assert.ok(dry.created);
        const writes = counting.counted.length;
        assert.ok(
          writes >= 15,
          `a snapshot makes at least 15 writes (lock, pack, index, record), made ${writes}:\n${counting.counted.join('\n')}`,
        );
        resetStore(store, baseline);

        for (let n = 1; n <= writes; n++) {
          // One fault per write in turn; on a full scan every fault at the lock's writes and at the commit (the
          // index, the record and what follows: the last writes), where a wrong sentence would matter most.
          const every = kind === 'full scan' && (n <= 5 || n > writes - 5);
          for (const code of every ? CODES : [CODES[n % CODES.length]]) {
            const context = `${kind}, ${code} at write ${n} of ${writes}`;
            const port = faultyPort({ failAt: n, code });
            const repo = await Repository.open(store, { port });
            const snapshotter: Snapshotter = snapshotterFor(repo, ws);
            let error: unknown;
            try {
              await snapshotter.snapshot(request);
            } catch (e) {
              error = e;
            }
            assert.ok(error !== undefined, `${context}: the snapshot reported success though ${port.failed[0]} failed`);
            assertOneSentence(error, code, store, context);
            assert.deepEqual(
              port.counted.filter((c) => c.includes(ws)),
              [],
              `${context}: nothing was written in the workspace`,
            );
            assert.equal(describeTreeDiff(readTree(ws), editedState), '', `${context}: the workspace is untouched`);
            await assertNoLeftovers(store, context);

            // Only complete snapshots are visible: the base, and the new one only when its record was committed
            // before the failure (a failed directory fsync after the rename).
            const visible = await (await Repository.open(store)).listSnapshots();
            assert.ok(
              visible.some((s) => s.id === base.id),
              `${context}: the base snapshot is still listed`,
            );
            for (const s of visible) {
              if (s.id !== base.id)
                await assertRestores(store, s.id, editedState, `${context}, committed before the fault`);
            }
            if (n === writes || n % 5 === 0) await assertRestores(store, base.id, baseState, context);

            // The fault goes away: the same long-lived snapshotter (the editor's) succeeds.
            port.heal();
            const retry = await snapshotter.snapshot(request);
            assert.equal(
              describeTreeDiff(readTree(ws), editedState),
              '',
              `${context}: the retry left the workspace alone`,
            );
            if (code === CODES[n % CODES.length])
              await assertRestores(store, retry.snapshot.id, editedState, `${context}, retry`);
            await assertNoLeftovers(store, `${context}, retry`);
            resetStore(store, baseline);
          }
        }
      });
    }

    it('the first snapshot into a new store: a fault at any write (config included) is one BackupError and a retry succeeds', async () => {
      // Regression guard: a failed store creation left the layout without a config, and every retry was
      // refused with "is not empty and holds no backup store".
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a', 'src/b.ts': 'b', 'big.bin': seededBytes(50_000, 5) });
      const state = readTree(ws);
      // Creating the layout is 263 mkdirs: try the second, a middle and the last. Then every fault at each write
      // up to the config's, and a sample after it (what follows is the full-scan loop's ground, covered above).
      const ops = WRITE_OPS.filter((op) => op !== 'mkdir');
      const counting = faultyPort({ ops });
      const dryStore = temp.fresh('dry');
      await snapshotterFor(await Repository.open(dryStore, { create: true, port: counting }), ws).snapshot();
      const writes = counting.counted.length;
      const cases: Array<{ n: number; mkdir: boolean }> = [2, 100, 263].map((n) => ({ n, mkdir: true }));
      for (let n = 1; n <= writes; n++) if (n <= 6 || n % 4 === 0 || n === writes) cases.push({ n, mkdir: false });
      const failures: string[] = [];
      for (const { n, mkdir } of cases) {
        for (const code of mkdir || n <= 5 ? CODES : [CODES[n % CODES.length]]) {
          const context = `${code} at ${mkdir ? 'mkdir' : 'write'} ${n}${mkdir ? '' : ` of ${writes}`}`;
          const store = temp.fresh('store');
          const port = faultyPort({ failAt: n, code, ops: mkdir ? ['mkdir'] : ops });
          let error: unknown;
          try {
            const repo = await Repository.open(store, { create: true, port });
            await snapshotterFor(repo, ws).snapshot();
          } catch (e) {
            error = e;
          }
          assert.ok(error !== undefined, `${context}: reported success though ${port.failed[0]} failed`);
          assertOneSentence(error, code, store, context);
          assert.equal(describeTreeDiff(readTree(ws), state), '', `${context}: the workspace is untouched`);
          try {
            const repo = await Repository.open(store, { create: true });
            const retry = await snapshotterFor(repo, ws).snapshot();
            await assertRestores(store, retry.snapshot.id, state, `${context}, retry`);
          } catch (e) {
            failures.push(`${context}: the retry failed: ${(e as Error).message}`);
          }
        }
      }
      assert.deepEqual(
        failures,
        [],
        `after a failed first snapshot, the retry must succeed (${failures.length} cases failed)`,
      );
    });

    it('the CLI: a fault at any write of `snapshot` exits 1 with one line on stderr; a retry exits 0', async () => {
      const { ws, store, baseline, editedState } = await snapshotSetup();
      const counting = faultyPort();
      assert.equal((await runCliWithPort(['snapshot', ws, '--repo', store], counting)).code, 0);
      const writes = counting.counted.length;
      resetStore(store, baseline);
      for (let n = 1; n <= writes; n++) {
        const code = CODES[n % CODES.length];
        const context = `CLI snapshot, ${code} at write ${n} of ${writes}`;
        const run = await runCliWithPort(['snapshot', ws, '--repo', store], faultyPort({ failAt: n, code }));
        assertCliOneLine(run, context);
        assert.deepEqual(
          run.stdout.filter((l) => l !== ''),
          [],
          `${context}: nothing on stdout`,
        );
        await assertNoLeftovers(store, context);
        const retry = await runCliWithPort(['snapshot', ws, '--repo', store, '--json'], nodeFs);
        assert.equal(retry.code, 0, `${context}: retry (stderr: ${retry.stderr.join(' | ')})`);
        const id = (JSON.parse(retry.stdout.join('\n')) as { id: string }).id;
        if (n % 3 === 0 || n === writes) await assertRestores(store, id, editedState, `${context}, retry`);
        resetStore(store, baseline);
      }
    });

    it('an unreadable workspace file (EIO on read) is skipped with its name, or fails as one BackupError naming it', async () => {
      // A failing disk sector under one file must not surface as a raw "EIO: i/o error" (the CLI's
      // "unexpected error"): restic reports it against the file and goes on.
      const { ws, store } = await snapshotSetup();
      for (const victim of ['src/index.ts', 'assets/big.bin']) {
        const file = path.join(ws, ...victim.split('/'));
        const fail = () => {
          throw fsError('EIO', 'read', file);
        };
        const port = spyPort({
          readFile: (b, p) => (p === file ? Promise.reject(fsError('EIO', 'read', file)) : b.readFile(p)),
          readFileSync: (b, p) => (p === file ? fail() : b.readFileSync(p)),
          open: (b, p, flags, mode) =>
            p === file ? Promise.reject(fsError('EIO', 'open', file)) : b.open(p, flags, mode),
        });
        const context = `EIO reading ${victim}`;
        // Make the file look changed, or the stat cache rightly never reads it again.
        const touched = new Date(Date.now() - 10_000 - victim.length);
        fs.utimesSync(file, touched, touched);
        try {
          const result = await snapshotterFor(await Repository.open(store, { port }), ws).snapshot();
          assert.ok(
            result.skipped.some((s) => s.path === victim),
            `${context}: the snapshot succeeded without reporting ${victim} as skipped: ${JSON.stringify(result.skipped)}`,
          );
        } catch (error) {
          if (!(error instanceof BackupError)) {
            assert.fail(
              `${context}: expected a skip or a BackupError naming the file, got a raw ${(error as Error).constructor.name}: ${(error as Error).message}`,
            );
          }
          assert.ok(
            error.message.includes(victim) || error.message.includes(file),
            `${context}: "${error.message}" names the file`,
          );
        }
        const cli = await runCliWithPort(['snapshot', ws, '--repo', store], port);
        assert.doesNotMatch(
          cli.stderr.join('\n'),
          /unexpected error/,
          `${context}: the CLI says what happened in its own words`,
        );
      }
    });
  });

  describe('restore', () => {
    // The target holds older versions of the snapshot's files (different sizes, so each is rewritten).
    const OLD: TreeSpec = {
      'README.md': '# old readme, longer than the new one\n',
      'src/index.ts': 'old index',
      'bin/run.sh': { mode: 0o644, content: 'old script' },
      'mine.txt': 'not in the snapshot: must survive',
      'huge.txt': 'the old huge file, before it grew',
    };
    const NEW: TreeSpec = {
      'README.md': '# new\n',
      'src/index.ts': seededText(2_500, 22),
      'src/lib/util.ts': seededText(1_500, 23),
      'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho new\n' },
      'assets/photo.bin': seededBytes(40_000, 24),
      'deep/a/b/c.txt': 'deep',
      'links/readme': { symlink: '../README.md' },
      // Over 4 MiB: streamed chunk by chunk rather than written in one synchronous call.
      'huge.txt': seededText(4_300_000, 25),
    };

    async function restoreSetup() {
      const ws = temp.make('ws');
      writeTree(ws, NEW);
      const repo = await openRepo(temp.fresh('store'));
      const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      const target = temp.make('target');
      const oldState = expectedTree(OLD);
      const newState = readTree(ws);
      const expectedAfter: ReadTree = { ...newState, 'mine.txt': oldState['mine.txt'] };
      return { repo, snapshot, target, oldState, newState, expectedAfter };
    }

    /** Each path in the target is the old version or the new one, whole; nothing else and no temp file is there. */
    function assertOldOrNew(target: string, oldState: ReadTree, newState: ReadTree, context: string): void {
      const temps = listAll(target).filter((p) => isTempName(path.posix.basename(p)));
      assert.deepEqual(temps, [], `${context}: temp files left in the target`);
      const now = readTree(target);
      for (const [rel, value] of Object.entries(now)) {
        const same = (other: ReadTree) =>
          other[rel] !== undefined && describeTreeDiff({ [rel]: value }, { [rel]: other[rel] }) === '';
        if ('dir' in value) continue; // an empty folder the restore created before the fault
        assert.ok(
          same(oldState) || same(newState),
          `${context}: ${rel} is neither the old nor the new version (partial?)`,
        );
      }
    }

    it('at every write, each fault leaves every file old or new (never partial), no temp files, one sentence per problem; a retry restores exactly', async () => {
      const { repo, snapshot, target, oldState, newState, expectedAfter } = await restoreSetup();
      const reset = () => {
        fs.rmSync(target, { recursive: true, force: true });
        writeTree(target, OLD);
      };
      reset();
      const counting = faultyPort({ under: target });
      const dry = await new Restorer(await Repository.open(repo.location, { port: counting })).restore(snapshot, {
        target,
      });
      assert.deepEqual(dry.problems, []);
      const writes = counting.counted.length;
      assert.ok(writes >= 20, `a restore of this snapshot makes at least 20 writes, made ${writes}`);

      for (let n = 1; n <= writes; n++) {
        // One fault per write in turn (the full-scan snapshot loop tries every fault at every write).
        for (const code of [CODES[n % CODES.length]]) {
          const context = `restore, ${code} at write ${n} of ${writes}`;
          reset();
          const port = faultyPort({ failAt: n, code, under: target });
          const store = await Repository.open(repo.location, { port });
          let result: RestoreResult | undefined;
          try {
            result = await new Restorer(store).restore(snapshot, { target });
          } catch (error) {
            assertOneSentence(error, code, target, context);
          }
          if (result) {
            assert.ok(
              result.problems.length > 0,
              `${context}: restore reported no problem though ${port.failed[0]} failed`,
            );
            for (const p of result.problems) {
              assert.doesNotMatch(p.reason, /\n|\bat .*:\d+:\d+/, `${context}: one line per problem`);
              assert.ok(p.path.length > 0, `${context}: the problem names its path`);
            }
          }
          assertOldOrNew(target, oldState, newState, context);
          port.heal();
          const retry = await new Restorer(store).restore(snapshot, { target });
          assert.deepEqual(retry.problems, [], `${context}: retry`);
          const diff = describeTreeDiff(readTree(target), expectedAfter);
          assert.equal(
            diff,
            '',
            `${context}: after the retry the target is the snapshot (plus the user's own file):\n${diff}`,
          );
        }
      }
    });

    it('into a folder it cannot create: one BackupError naming it, for each fault', async () => {
      const { repo, snapshot } = await restoreSetup();
      for (const code of CODES) {
        const target = temp.fresh('newtarget');
        const port = faultyPort({ failAt: 1, code, under: path.dirname(target) });
        const context = `restore into a new folder, ${code} creating it`;
        let error: unknown;
        let result: RestoreResult | undefined;
        try {
          result = await new Restorer(await Repository.open(repo.location, { port })).restore(snapshot, { target });
        } catch (e) {
          error = e;
        }
        assert.equal(result, undefined, `${context}: expected a rejection, got ${JSON.stringify(result?.problems)}`);
        assertOneSentence(error, code, target, context);
      }
    });

    it('EIO reading a pack: a bad stretch fails only the file stored there, one sentence naming the pack; a dead pack fails the restore as one BackupError', async () => {
      const { repo, snapshot, newState } = await restoreSetup();
      const photo = await entryAt(repo, snapshot.tree, 'assets/photo.bin');
      assert.ok(photo?.type === 'file');
      // Over 32 KiB, so the photo is a storage unit of its own: only its bytes sit on the bad stretch.
      const at = repo.locate(photo.content[0]);
      assert.ok(at && at.inner === undefined);
      const packFile = path.join(repo.location, 'data', at.packId.slice(0, 2), at.packId);
      let bad: 'stretch' | 'pack' | 'none' = 'stretch';
      const port = spyPort({
        readFile: (b, p) =>
          bad === 'pack' && p === packFile ? Promise.reject(fsError('EIO', 'read', p)) : b.readFile(p),
        open: async (b, p, flags, mode) => {
          if (bad === 'pack' && p === packFile) throw fsError('EIO', 'open', p);
          const handle = await b.open(p, flags, mode);
          if (p !== packFile) return handle;
          return {
            ...handle,
            read: (buffer: Buffer, offset: number, length: number, position: number | null) =>
              bad === 'stretch' &&
              position !== null &&
              position < at.offset + at.length &&
              position + length > at.offset
                ? Promise.reject(fsError('EIO', 'read', p))
                : handle.read(buffer, offset, length, position),
            write: handle.write.bind(handle),
            writev: handle.writev.bind(handle),
            sync: handle.sync.bind(handle),
            stat: handle.stat.bind(handle),
            close: handle.close.bind(handle),
          };
        },
      });
      const target = temp.fresh('t');
      const result = await new Restorer(await Repository.open(repo.location, { port })).restore(snapshot, { target });
      assert.deepEqual(
        result.problems.map((p) => p.path),
        ['assets/photo.bin'],
      );
      assert.match(result.problems[0].reason, /Input\/output error while reading \S*data/, result.problems[0].reason);
      assert.ok(result.problems[0].reason.includes(at.packId), 'names the pack');
      assert.doesNotMatch(result.problems[0].reason, /\n/);
      const { 'assets/photo.bin': _photo, ...others } = newState;
      void _photo;
      assert.equal(
        describeTreeDiff(readTree(target), { ...others, assets: { dir: true } }),
        '',
        'everything else restored, and no temp file left',
      );

      bad = 'pack';
      const dead = temp.fresh('t2');
      let error: unknown;
      try {
        await new Restorer(await Repository.open(repo.location, { port })).restore(snapshot, { target: dead });
      } catch (e) {
        error = e;
      }
      assertOneSentence(error, 'EIO', packFile, 'the pack holding the trees cannot be read');

      bad = 'none';
      const retry = await new Restorer(await Repository.open(repo.location, { port })).restore(snapshot, { target });
      assert.deepEqual(retry.problems, []);
      assert.equal(describeTreeDiff(readTree(target), newState), '');
    });

    it('the CLI: a fault at the lock is one line; a one-off fault on a file is one "not restored" line; exit 1 either way', async () => {
      const { repo, snapshot, target, expectedAfter } = await restoreSetup();
      writeTree(target, OLD);
      // An I/O error at the lock stops it (ENOSPC or EACCES there means a store that cannot be written, which
      // is read without a lock: readOnlyStore.test.ts).
      const atLock = await runCliWithPort(
        ['restore', snapshot.id, '--repo', repo.location, '--target', target],
        faultyPort({ failAt: 1, code: 'EIO' }),
      );
      assertCliOneLine(atLock, 'restore, EIO writing the lock');
      assert.match(atLock.stderr[0], /Input\/output error/);
      for (const code of CODES) {
        writeTree(target, OLD);
        const port = faultyPort({ failAt: 1, code, under: target, sticky: false });
        const run = await runCliWithPort(['restore', snapshot.id, '--repo', repo.location, '--target', target], port);
        const context = `CLI restore, one ${code} at ${port.failed[0]}`;
        assert.equal(run.code, 1, `${context}: exit code`);
        assert.equal(run.stderr.length, 1, `${context}: one line on stderr, got:\n${run.stderr.join('\n')}`);
        assert.match(run.stderr[0], /^not restored: \S+: /, context);
        assert.doesNotMatch(run.stderr[0], /\bat .*:\d+:\d+/, context);
        const again = await runCliWithPort(
          ['restore', snapshot.id, '--repo', repo.location, '--target', target],
          nodeFs,
        );
        assert.equal(again.code, 0, `${context}: retry (stderr: ${again.stderr.join(' | ')})`);
        assert.equal(describeTreeDiff(readTree(target), expectedAfter), '', `${context}: retry restores exactly`);
      }
    });
  });

  describe('prune', () => {
    it('at every write and removal, a fault is one line (exit 1); every snapshot still restores, verify is clean, a retry prunes', async function () {
      const has = async (command: string) => (await runCliWithPort([command, '--help'], nodeFs)).code === 0;
      if (!(await has('prune')) || !(await has('forget')) || !(await has('verify'))) this.skip();
      // Four snapshots, the two oldest forgotten without pruning: prune has packs to delete and to rewrite.
      const { ws, store, editedState } = await snapshotSetup();
      const snapshotNow = async () => (await snapshotterFor(await Repository.open(store), ws).snapshot()).snapshot.id;
      const states = new Map<string, ReadTree>();
      states.set(await snapshotNow(), editedState);
      writeTree(ws, { 'src/index.ts': seededText(2_900, 31), 'later.txt': 'later\n' });
      states.set(await snapshotNow(), readTree(ws));
      fs.rmSync(path.join(ws, 'assets', 'photo.bin'));
      writeTree(ws, { 'src/lib/util.ts': seededText(4_000, 32) });
      states.set(await snapshotNow(), readTree(ws));
      const forgot = await runCliWithPort(['forget', '--keep-last', '2', '--repo', store], nodeFs);
      assert.equal(forgot.code, 0, forgot.stderr.join('\n'));
      const kept = (await (await Repository.open(store)).listSnapshots()).map((s) => s.id);
      assert.equal(kept.length, 2);
      const baseline = storeState(store);

      const notLocks = (_op: string, file: string) => file.startsWith(path.join(store, 'locks') + path.sep);
      const counting = faultyPort({ ops: WRITE_AND_REMOVE_OPS, skip: notLocks });
      const dry = await runCliWithPort(['prune', '--repo', store, '--json'], counting);
      assert.equal(dry.code, 0, dry.stderr.join('\n'));
      const report = JSON.parse(dry.stdout.join('\n')) as { packsDeleted: number; packsRewritten: number };
      assert.ok(report.packsDeleted + report.packsRewritten > 0, `prune has work to do: ${dry.stdout.join(' ')}`);
      const writes = counting.counted.length;
      resetStore(store, baseline);

      const check = async (context: string, restore = true) => {
        if (restore) for (const id of kept) await assertRestores(store, id, states.get(id) as ReadTree, context);
        const verify = await runCliWithPort(['verify', '--repo', store], nodeFs);
        assert.equal(verify.code, 0, `${context}: verify:\n${[...verify.stdout, ...verify.stderr].join('\n')}`);
      };
      for (let n = 1; n <= writes; n++) {
        const code = CODES[n % CODES.length];
        const context = `prune, ${code} at ${n} of ${writes} (${counting.counted[n - 1]?.replace(store, '<store>')})`;
        const port = faultyPort({ failAt: n, code, ops: WRITE_AND_REMOVE_OPS, skip: notLocks });
        const run = await runCliWithPort(['prune', '--repo', store], port);
        assertCliOneLine(run, context);
        await check(context);
        // The fault also stopped the failed run removing its own temp file (removals fail too): a temp file
        // is a live writer's for an hour, so age it the way time would before the retry clears it.
        const past = new Date(Date.now() - 2 * 3_600_000);
        for (const file of await new LocalBackend(store, nodeFs).listTemp()) fs.utimesSync(file, past, past);
        const retry = await runCliWithPort(['prune', '--repo', store], nodeFs);
        assert.equal(retry.code, 0, `${context}: retry: ${retry.stderr.join(' | ')}`);
        if (n % 3 === 0 || n === writes) await check(`${context}, after the retry`, n % 6 === 0);
        await assertNoLeftovers(store, `${context}, after the retry`);
        resetStore(store, baseline);
      }
    });
  });
});
