// Archive export: archives are read back with independent readers (GNU tar and Info-ZIP unzip, never our
// own code) and compared byte for byte, with mode bits and symlinks, with the snapshot as the Restorer
// restores it; a full archive followed by differential and incremental ones, applied in order, reproduces
// the workspace at each step; the chain is recorded in the store; a 200 MiB file streams in bounded
// memory; cancel and failures leave no archive and no temp file; the CLI's exit codes.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliRun } from './helpers/fixtures';
import {
  MiB,
  REPO_ROOT,
  damageBlob,
  describeTreeDiff,
  openRepo,
  readTree,
  rejectionCode,
  runCliCaptured,
  seededBytes,
  seededText,
  snapshotterFor,
  spyPort,
  forgeSnapshot,
  makeTempDir,
  removeDir,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { ReadTree, TreeSpec } from './helpers/fixtures';
import { exportCommand } from '../../src/cli/exportCommand';
import { EXIT_ERROR, EXIT_USAGE, UsageError } from '../../src/cli/context';
import type { Io } from '../../src/cli/context';
import { BackupError } from '../../src/core/errors';
import { entryAt } from '../../src/core/query/browse';
import { DELETED_FILE, MANIFEST_DIR, MANIFEST_FILE, exportArchive, listArchives } from '../../src/core/export/archive';
import type { ArchiveFormat, ArchiveManifest, ArchiveResult, ExportOptions } from '../../src/core/export/archive';
import type { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { Restorer } from '../../src/core/restore/restorer';
import type { FileHandlePort } from '../../src/core/storage/fsPort';

const HAVE_UNZIP = spawnSync('which', ['unzip']).status === 0;
const HAVE_TAR = spawnSync('which', ['tar']).status === 0;
const FORMATS: ArchiveFormat[] = ['tar.gz', 'zip'];
const EXT: Record<ArchiveFormat, string> = { 'tar.gz': 'tar.gz', zip: 'zip' };

function skipWithoutReader(ctx: Mocha.Context, format: ArchiveFormat): void {
  if (format === 'zip' && !HAVE_UNZIP) {
    console.log('    (skipped: `unzip` is not installed; `apt-get install -y unzip` to run the zip checks)');
    ctx.skip();
  }
  if (format === 'tar.gz' && !HAVE_TAR) {
    console.log('    (skipped: `tar` is not installed)');
    ctx.skip();
  }
}

// ---- independent readers ------------------------------------------------------------------------------

function extract(archive: string, dir: string, env: NodeJS.ProcessEnv = process.env): void {
  fs.mkdirSync(dir, { recursive: true });
  if (archive.endsWith('.zip'))
    execFileSync('unzip', ['-q', '-o', archive, '-d', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  else execFileSync('tar', ['-xzpf', archive, '-C', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** One member's bytes, read by the archive tool. */
function member(archive: string, name: string): Buffer {
  if (archive.endsWith('.zip')) return execFileSync('unzip', ['-p', archive, name], { maxBuffer: 64 * MiB });
  return execFileSync('tar', ['-xzf', archive, '-O', name], { maxBuffer: 64 * MiB });
}

/** Member names as the archive tool lists them. */
function members(archive: string): string[] {
  if (archive.endsWith('.zip'))
    return execFileSync('unzip', ['-Z1', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/**
 * Applies an archive the way the manifest tells a person to, with nothing of ours: remove what deleted.txt
 * lists, extract over the folder, remove the manifest.
 */
function applyArchive(archive: string, dir: string): void {
  const names = members(archive);
  if (names.includes(DELETED_FILE)) {
    const lines = member(archive, DELETED_FILE)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    for (const line of lines) fs.rmSync(path.join(dir, line), { recursive: true, force: true });
  }
  extract(archive, dir);
  fs.rmSync(path.join(dir, MANIFEST_FILE), { force: true });
  fs.rmSync(path.join(dir, DELETED_FILE), { force: true });
  const manifestDir = path.join(dir, MANIFEST_DIR);
  if (fs.existsSync(manifestDir) && fs.readdirSync(manifestDir).length === 0) fs.rmdirSync(manifestDir);
}

function assertSameTree(actual: ReadTree, expected: ReadTree, what: string): void {
  const diff = describeTreeDiff(actual, expected);
  assert.equal(diff, '', `${what} differs:\n${diff}`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), what);
}

/** Every file's and folder's mtime is the snapshot's time (to the archive format's resolution). */
function assertMtimes(root: string, snapshot: SnapshotRecord, toleranceMs: number, what: string): void {
  const want = Date.parse(snapshot.time);
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const stat = fs.lstatSync(p);
      if (stat.isSymbolicLink()) continue;
      const off = stat.mtimeMs - want;
      assert.ok(
        off <= 0 && off > -toleranceMs,
        `${what}: ${path.relative(root, p)} has mtime ${new Date(stat.mtimeMs).toISOString()}, snapshot time ${snapshot.time}`,
      );
      if (stat.isDirectory()) walk(p);
    }
  };
  walk(root);
}

// ---- the workspace and its history ----------------------------------------------------------------------

const INITIAL: TreeSpec = {
  'README.md': seededText(3_000, 1),
  'src/index.ts': seededText(5_000, 2),
  'src/util/strings.ts': seededText(800, 3),
  'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho hi\n' },
  'docs/ünïcødé 文件.md': 'a unicode name\n',
  'docs/emoji 🎉.txt': 'party\n',
  empty: { dir: true },
  'nested/empty/deep': { dir: true },
  'link-to-src': { symlink: 'src/index.ts' },
  dangling: { symlink: 'nowhere/at/all' },
  'data/blob.bin': seededBytes(3 * MiB + 12_345, 4), // streamed (above 1 MiB) and several chunks
  'data/empty.txt': '',
  'notes:todo.md': 'a colon near the start of the name\n',
  'old/to-be-removed/a.txt': 'a\n',
  'old/keep.txt': 'kept\n',
  'was-file': 'becomes a folder\n',
  'was-folder/inner.txt': 'becomes a file\n',
  'link-becomes-file': { symlink: 'README.md' },
  'file-becomes-link': 'x\n',
};

/** The edits between snapshots, each a plain change of the workspace on disk. */
const STEPS: Array<{ since: 'full' | 'last'; edit: (ws: string) => void }> = [
  {
    since: 'full', // differential, base: the full archive's snapshot
    edit: (ws) => {
      const p = (rel: string) => path.join(ws, rel);
      writeTree(ws, {
        'src/new.ts': seededText(1_200, 10),
        'src/index.ts': seededText(5_100, 11),
        'fresh/empty': { dir: true },
        'docs/日本語/ノート.txt': 'nihongo\n',
      });
      fs.renameSync(p('src/util/strings.ts'), p('src/util/text.ts'));
      fs.rmSync(p('old/to-be-removed'), { recursive: true });
      fs.chmodSync(p('bin/run.sh'), 0o644);
      fs.chmodSync(p('README.md'), 0o755); // only the exec bit changes
      fs.rmSync(p('was-file'));
      writeTree(ws, { 'was-file/child.txt': 'now inside a folder\n' });
      fs.rmSync(p('was-folder'), { recursive: true });
      writeTree(ws, { 'was-folder': 'now a file\n' });
      fs.rmSync(p('link-becomes-file'));
      writeTree(ws, {
        'link-becomes-file': 'a file now\n',
        'file-becomes-link': { symlink: 'README.md' },
        'link-to-src': { symlink: 'README.md' },
      });
      const blob = fs.readFileSync(p('data/blob.bin'));
      blob.write('edited in the middle', 1_500_000);
      fs.writeFileSync(p('data/blob.bin'), blob);
    },
  },
  {
    since: 'last', // incremental, base: the differential's snapshot
    edit: (ws) => {
      fs.rmdirSync(path.join(ws, 'fresh/empty'));
      fs.rmSync(path.join(ws, 'docs/ünïcødé 文件.md'));
      fs.chmodSync(path.join(ws, 'bin/run.sh'), 0o755);
      writeTree(ws, { 'src/more/x.ts': seededText(300, 12), 'src/new.ts': seededText(1_250, 13) });
    },
  },
  {
    since: 'full', // differential again: relative to the full archive, not to the incremental
    edit: (ws) => {
      fs.rmSync(path.join(ws, 'data/blob.bin'));
      fs.renameSync(path.join(ws, 'docs'), path.join(ws, 'documentation'));
      writeTree(ws, { 'data/other.bin': seededBytes(40_000, 14) });
    },
  },
  {
    since: 'last', // incremental on top of that differential
    edit: (ws) => {
      fs.rmdirSync(path.join(ws, 'empty'));
      writeTree(ws, { 'README.md': { mode: 0o755, content: seededText(3_100, 15) }, empty2: { dir: true } });
    },
  },
];

async function exportTo(
  repo: Repository,
  snapshot: SnapshotRecord,
  file: string,
  options: Partial<ExportOptions> = {},
): Promise<ArchiveResult> {
  return exportArchive(repo, { snapshot, file, ...options });
}

describe('archive export', () => {
  const temp = useTempDirs();

  for (const format of FORMATS) {
    describe(format, () => {
      it('a full archive holds exactly what the Restorer restores: bytes, mode bits, symlinks, empty folders, unicode names, the snapshot time as mtime', async function () {
        skipWithoutReader(this, format);
        const ws = temp.make('ws');
        writeTree(ws, INITIAL);
        // A snapshot time long past, so an archive stamped with the time of export could not pass for it.
        const repo = await openRepo(temp.fresh('store'), { now: () => new Date('2024-03-01T10:20:31.500Z') });
        const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
        assert.equal(snapshot.time, '2024-03-01T10:20:31.500Z');
        const out = temp.make('out');
        const file = path.join(out, `full.${EXT[format]}`);
        // A zone far from UTC: a zip's times are local times, and must come back as the snapshot's time.
        const savedTz = process.env.TZ;
        process.env.TZ = 'Pacific/Auckland';
        let result: ArchiveResult;
        const extracted = temp.make('extracted');
        try {
          result = await exportTo(repo, snapshot, file);
          extract(file, extracted, { ...process.env, TZ: 'Pacific/Auckland' });
        } finally {
          if (savedTz === undefined) delete process.env.TZ;
          else process.env.TZ = savedTz;
        }
        assert.equal(result.kind, 'full');
        assert.equal(result.base, null);
        assert.deepEqual(result.deleted, []);
        assert.deepEqual(result.skipped, []);
        assert.equal(result.file, file);
        assert.equal(result.bytes, fs.statSync(file).size);
        assert.equal(result.files, snapshot.stats.files + snapshot.stats.symlinks);
        assert.deepEqual(fs.readdirSync(out), [path.basename(file)], 'only the archive, no temp file');

        const restored = temp.make('restored');
        await new Restorer(repo).restore(snapshot, { target: restored });
        assertSameTree(readTree(extracted), readTree(restored), 'extracted archive vs restored snapshot');
        assertSameTree(readTree(extracted), readTree(ws), 'extracted archive vs workspace');
        assert.ok(!members(file).some((m) => m.startsWith(MANIFEST_DIR)), 'a full archive has no manifest');
        assertMtimes(extracted, snapshot, format === 'zip' ? 2_000 : 1_000, 'mtime');
      });

      it('full, then differential and incremental archives, applied in order, reproduce the workspace at every step', async function () {
        this.timeout(120_000);
        skipWithoutReader(this, format);
        const ws = temp.make('ws');
        writeTree(ws, INITIAL);
        const repo = await openRepo(temp.fresh('store'));
        const out = temp.make('out');
        const snapshots: SnapshotRecord[] = [];
        const states: ReadTree[] = [];
        const files: string[] = [];
        const results: ArchiveResult[] = [];
        const snap = async () => {
          const s = (await snapshotterFor(repo, ws).snapshot()).snapshot;
          snapshots.push(s);
          states.push(readTree(ws));
          return s;
        };

        const s0 = await snap();
        files.push(path.join(out, `0-full.${EXT[format]}`));
        results.push(await exportTo(repo, s0, files[0]));
        /** Archives applied in order onto an empty folder, for each step: which ones build that state. */
        const chains: number[][] = [[0]];
        const lastFull = 0;
        for (const [i, step] of STEPS.entries()) {
          step.edit(ws);
          const s = await snap();
          const file = path.join(out, `${i + 1}-${step.since}.${EXT[format]}`);
          files.push(file);
          results.push(await exportTo(repo, s, file, { since: step.since }));
          const previous = step.since === 'full' ? chains[lastFull] : chains[chains.length - 1];
          chains.push([...previous, i + 1]);
        }

        for (const [i, chain] of chains.entries()) {
          const dir = temp.make(`applied-${i}`);
          for (const n of chain) applyArchive(files[n], dir);
          assertSameTree(
            readTree(dir),
            states[i],
            `step ${i}: archives ${chain.join(', ')} applied in order vs the workspace then`,
          );
        }

        // What each archive says about itself, and what it holds.
        const expectedBases = [null, s0.id, snapshots[1].id, s0.id, snapshots[3].id];
        const expectedKinds = ['full', 'differential', 'incremental', 'differential', 'incremental'];
        for (const [i, result] of results.entries()) {
          assert.equal(result.kind, expectedKinds[i], `archive ${i} kind`);
          assert.equal(result.base, expectedBases[i], `archive ${i} base`);
          assert.deepEqual(result.skipped, [], `archive ${i} skipped nothing`);
          if (i === 0) continue;
          const manifest = JSON.parse(member(files[i], MANIFEST_FILE).toString('utf8')) as ArchiveManifest;
          assert.equal(manifest.kind, result.kind);
          assert.equal(manifest.snapshot, snapshots[i].id);
          assert.equal(manifest.base, result.base);
          assert.deepEqual(manifest.workspace, snapshots[i].workspace);
          assert.ok(!Number.isNaN(Date.parse(manifest.time)), 'manifest time');
          const listed = member(files[i], DELETED_FILE).toString('utf8');
          assert.equal(
            listed,
            result.deleted.map((p) => `${p}\n`).join(''),
            `archive ${i}: deleted.txt is the result's list`,
          );
        }
        // The differential after the incremental is relative to the full archive: it carries src/new.ts
        // (added after the full archive) although the incremental before it already did.
        assert.ok(
          members(files[3]).includes('src/new.ts'),
          'the second differential holds everything since the full archive',
        );
        assert.ok(
          !members(files[2]).includes('README.md'),
          'an incremental holds only what changed since the previous archive',
        );
        assert.deepEqual(
          [...results[1].deleted].sort(),
          [
            'file-becomes-link',
            'link-becomes-file',
            'old/to-be-removed/',
            'old/to-be-removed/a.txt',
            'src/util/strings.ts',
            'was-file',
            'was-folder/',
            'was-folder/inner.txt',
          ].sort(),
          'deleted and kind-changed paths of the first differential',
        );
        const removals = results[1].deleted;
        assert.ok(
          removals.indexOf('old/to-be-removed/a.txt') < removals.indexOf('old/to-be-removed/'),
          'children are listed before their folder',
        );
        assert.deepEqual(results[2].deleted.sort(), ['docs/ünïcødé 文件.md', 'fresh/empty/'].sort());

        // The chain, as the store records it.
        const records = await listArchives(repo, s0.workspace.id);
        assert.deepEqual(
          records.map((r) => r.kind),
          expectedKinds,
        );
        assert.deepEqual(
          records.map((r) => r.base),
          expectedBases,
        );
        assert.deepEqual(
          records.map((r) => r.snapshot),
          snapshots.map((s) => s.id),
        );
        assert.deepEqual(
          records.map((r) => r.file),
          files,
        );
        assert.deepEqual(
          records.map((r) => r.id),
          results.map((r) => r.id),
        );
        for (const [i, record] of records.entries()) {
          assert.equal(record.bytes, fs.statSync(files[i]).size, `record ${i} bytes`);
          assert.equal(record.files, results[i].files, `record ${i} files`);
          assert.equal(record.format, format);
          assert.deepEqual(record.workspace, s0.workspace);
          assert.ok(
            fs.existsSync(path.join(repo.location, 'meta', 'archives', record.id)),
            `record ${i} is meta/archives/<id>`,
          );
        }
        assert.deepEqual(await listArchives(repo, 'another-workspace'), []);
        assert.equal((await listArchives(repo)).length, records.length);
      });
    });
  }

  describe('the chain and its refusals', () => {
    async function oneSnapshot(spec: TreeSpec = { 'a.txt': 'a\n', 'src/b.ts': seededText(500, 1) }) {
      const ws = temp.make('ws');
      writeTree(ws, spec);
      const repo = await openRepo(temp.fresh('store'));
      const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      return { ws, store: repo.location, repo, snapshot, out: temp.make('out') };
    }

    it('refuses a differential without a full archive, and an incremental without any archive, writing nothing', async () => {
      const { repo, snapshot, out } = await oneSnapshot();
      const full = await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'd.tar.gz'), { since: 'full' }));
      assert.equal(full.code, 'USAGE');
      assert.match(full.message, /no full archive of .* yet.*make a full archive first/);
      const last = await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'i.tar.gz'), { since: 'last' }));
      assert.equal(last.code, 'USAGE');
      assert.match(last.message, /no archive of .* yet/);
      assert.deepEqual(fs.readdirSync(out), []);
      assert.deepEqual(await listArchives(repo), []);
    });

    it("another workspace's archives are no base for this one", async () => {
      const { repo, snapshot, out } = await oneSnapshot();
      const otherWs = temp.make('other');
      writeTree(otherWs, { 'x.txt': 'x\n' });
      const other = (await snapshotterFor(repo, otherWs).snapshot()).snapshot;
      await exportTo(repo, other, path.join(out, 'other.tar.gz'));
      assert.equal(
        (await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'd.tar.gz'), { since: 'full' }))).code,
        'USAGE',
      );
      assert.equal(
        (await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'i.tar.gz'), { since: 'last' }))).code,
        'USAGE',
      );
    });

    it('an explicit base snapshot makes an incremental archive relative to it', async () => {
      const { ws, repo, snapshot, out } = await oneSnapshot();
      writeTree(ws, { 'c.txt': 'c\n' });
      fs.rmSync(path.join(ws, 'a.txt'));
      const second = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      const result = await exportTo(repo, second, path.join(out, 'i.zip'), { since: snapshot });
      assert.equal(result.kind, 'incremental');
      assert.equal(result.base, snapshot.id);
      assert.deepEqual(result.deleted, ['a.txt']);
      assert.equal(result.files, 1);
      const records = await listArchives(repo, snapshot.workspace.id);
      assert.deepEqual(
        records.map((r) => [r.kind, r.base]),
        [['incremental', snapshot.id]],
      );
    });

    it('says so when the snapshot of the last full archive was forgotten', async () => {
      const { ws, repo, snapshot, out } = await oneSnapshot();
      await exportTo(repo, snapshot, path.join(out, 'full.tar.gz'));
      writeTree(ws, { 'c.txt': 'c\n' });
      const second = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      await repo.removeSnapshot(snapshot.id);
      const refused = await rejectionCode(() => exportTo(repo, second, path.join(out, 'd.tar.gz'), { since: 'full' }));
      assert.equal(refused.code, 'SNAPSHOT_NOT_FOUND');
      assert.match(refused.message, /no longer in the store; make a full archive/);
    });

    it('refuses to overwrite an existing file unless asked, a name without a known extension, and a missing folder', async () => {
      const { repo, snapshot, out } = await oneSnapshot();
      const file = path.join(out, 'a.tar.gz');
      fs.writeFileSync(file, 'precious');
      const refused = await rejectionCode(() => exportTo(repo, snapshot, file));
      assert.equal(refused.code, 'USAGE');
      assert.equal(fs.readFileSync(file, 'utf8'), 'precious');
      const result = await exportTo(repo, snapshot, file, { overwrite: true });
      assert.equal(fs.statSync(file).size, result.bytes);
      assert.equal((await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'a.rar')))).code, 'USAGE');
      const noFolder = await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'missing', 'a.zip')));
      assert.equal(noFolder.code, 'PATH_NOT_FOUND');
      assert.match(noFolder.message, /missing does not exist; create it/);
      assert.deepEqual(fs.readdirSync(out), ['a.tar.gz']);
    });

    it("refuses a differential whose manifest would overwrite the workspace's own .project-backup/manifest.json", async () => {
      const { repo, snapshot, out } = await oneSnapshot({
        'a.txt': 'a\n',
        '.project-backup/manifest.json': '{"mine": true}\n',
      });
      await exportTo(repo, snapshot, path.join(out, 'full.tar.gz'));
      const refused = await rejectionCode(() =>
        exportTo(repo, snapshot, path.join(out, 'd.tar.gz'), { since: 'full' }),
      );
      assert.equal(refused.code, 'USAGE');
      assert.match(refused.message, /\.project-backup\/manifest\.json/);
    });

    it('leaves hostile names out of the archive and says which (a store is input too)', async function () {
      if (!HAVE_TAR) this.skip();
      const repo = await openRepo(temp.fresh('store'));
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const file = (name: string) => ({ type: 'file' as const, name, mode: 0o644, size: 7, content: [data] });
      const inner = await w.addTree([file('escaped.txt')]);
      const root = await w.addTree([
        file('..'),
        file('../../up.txt'),
        { type: 'dir', name: '/tmp', tree: inner },
        file('back\\slash.txt'),
        file('ok.txt'),
      ]);
      await w.finish();
      const snapshot = await forgeSnapshot(repo, root);
      const out = temp.make('out');
      const result = await exportTo(repo, snapshot, path.join(out, 'h.tar.gz'));
      assert.deepEqual(
        result.skipped.map((s) => s.path).sort(),
        ['..', '../../up.txt', '/tmp', '/tmp/escaped.txt', 'back\\slash.txt'].sort(),
      );
      assert.ok(
        result.skipped.every((s) => /contains|backslash/.test(s.reason)),
        JSON.stringify(result.skipped),
      );
      assert.deepEqual(members(path.join(out, 'h.tar.gz')), ['ok.txt']);
    });

    it('a damaged blob fails the export with the file named, and leaves no archive and no temp file', async () => {
      const { repo, snapshot, out } = await oneSnapshot({ 'a.txt': 'a\n', 'big.bin': seededBytes(2 * MiB, 9) });
      const entry = await entryAt(repo, snapshot.tree, 'big.bin');
      assert.ok(entry && entry.type === 'file');
      damageBlob(repo, entry.content[entry.content.length - 1]);
      const failed = await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'x.tar.gz')));
      assert.equal(failed.code, 'OBJECT_DAMAGED');
      assert.match(failed.message, /^big\.bin cannot be exported: /);
      assert.deepEqual(fs.readdirSync(out), []);
      assert.deepEqual(await listArchives(repo), []);
    });

    it('a full disk while writing is one clear error, and the temp file is removed', async () => {
      const { store, snapshot, out } = await oneSnapshot({ 'a.txt': 'a\n', 'big.bin': seededBytes(2 * MiB, 9) });
      const failingPort = spyPort({
        open: async (base, file, flags, mode) => {
          const handle = await base.open(file, flags, mode);
          if (path.dirname(file) !== out || !path.basename(file).startsWith('.pb-tmp-')) return handle;
          let writes = 0;
          const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          const failing: FileHandlePort = {
            ...bindAll(handle),
            writev: async (buffers) => (++writes > 1 ? Promise.reject(full) : handle.writev(buffers)),
            write: async (...args) => (++writes > 1 ? Promise.reject(full) : handle.write(...args)),
          };
          return failing;
        },
      });
      const repo = await openRepo(store, { port: failingPort });
      const failed = await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'x.zip')));
      assert.equal(failed.code, 'NO_SPACE');
      assert.match(failed.message, /disk is full while writing the archive/);
      assert.deepEqual(fs.readdirSync(out), []);
    });
  });

  describe('a 200 MiB file', function () {
    this.timeout(300_000);
    const SIZE = 200 * MiB;
    let ws: string;
    let store: string;
    let snapshot: SnapshotRecord;
    let repo: Repository;
    /** A one-file snapshot of another workspace in the same store: the child's warm-up export. */
    let tiny: SnapshotRecord;
    let tinyWs: string;

    before(async () => {
      ws = makeTempDir('export-big');
      // Sparse: no disk to speak of, but every byte still goes through the store, the archiver and gzip.
      const fd = fs.openSync(path.join(ws, 'huge.bin'), 'w');
      fs.ftruncateSync(fd, SIZE);
      fs.closeSync(fd);
      fs.writeFileSync(path.join(ws, 'small.txt'), 'small\n');
      store = path.join(makeTempDir('export-big-store'), 'store');
      repo = await openRepo(store);
      snapshot = (await snapshotterFor(repo, ws, { maxFileSize: 0 }).snapshot()).snapshot;
      tinyWs = makeTempDir('export-tiny');
      writeTree(tinyWs, { 'tiny.txt': 'tiny\n' });
      tiny = (await snapshotterFor(repo, tinyWs).snapshot()).snapshot;
    });
    after(() => {
      removeDir(ws);
      removeDir(tinyWs);
      removeDir(path.dirname(store));
    });

    for (const format of FORMATS) {
      it(`streams into a ${format} in bounded memory: peak RSS growth stays far below the file's size`, async function () {
        skipWithoutReader(this, format);
        const out = temp.make('out');
        const file = path.join(out, `big.${EXT[format]}`);
        const measured = measureExportInChild(store, tiny.id, snapshot.id, file);
        const growth = measured.peak - measured.baseline;
        // Measured here: about 45 MiB (2 MiB blob buffers awaiting GC, and what the allocator keeps), and
        // about 60 MiB for an 800 MiB file; buffering the file whole (archiver's tar path without a size)
        // grew by 412 MiB.
        assert.ok(
          growth < 80 * MiB,
          `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB exporting a ${SIZE / MiB} MiB file (baseline ${(measured.baseline / MiB).toFixed(1)} MiB)`,
        );
        // And the archive holds the whole file, as the archive tool sees it.
        const listing =
          format === 'zip'
            ? execFileSync('unzip', ['-l', file], { encoding: 'utf8' })
            : execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' });
        assert.match(listing, new RegExp(`\\b${SIZE}\\b.*huge\\.bin`));
        const sum =
          format === 'zip'
            ? execFileSync('sh', ['-c', `unzip -p '${file}' huge.bin | wc -c`], { encoding: 'utf8' })
            : execFileSync('sh', ['-c', `tar -xzf '${file}' -O huge.bin | wc -c`], { encoding: 'utf8' });
        assert.equal(Number(sum.trim()), SIZE);
      });

      it(`cancel in the middle of the file (${format}) removes the temp file, leaves no archive and records nothing`, async () => {
        const out = temp.make('out');
        const file = path.join(out, `big.${EXT[format]}`);
        const controller = new AbortController();
        let seen = 0;
        let total = 0;
        const failed = await rejectionCode(() =>
          exportTo(repo, snapshot, file, {
            signal: controller.signal,
            onProgress: (done, of) => {
              total = of;
              seen = done;
              if (done >= 32 * MiB) controller.abort();
            },
          }),
        );
        assert.equal(failed.code, 'CANCELLED');
        assert.equal(total, SIZE + 'small\n'.length);
        assert.ok(seen >= 32 * MiB && seen < SIZE, `cancelled mid-file (at ${seen} bytes)`);
        assert.deepEqual(fs.readdirSync(out), []);
        assert.deepEqual(
          (await listArchives(repo)).filter((r) => r.file === file),
          [],
          'no record of the cancelled archive',
        );
      });
    }

    it('a signal already aborted writes nothing', async () => {
      const out = temp.make('out');
      const controller = new AbortController();
      controller.abort();
      assert.equal(
        (await rejectionCode(() => exportTo(repo, snapshot, path.join(out, 'x.tar.gz'), { signal: controller.signal })))
          .code,
        'CANCELLED',
      );
      assert.deepEqual(fs.readdirSync(out), []);
    });
  });

  describe('the CLI', () => {
    async function setup() {
      const ws = temp.make('ws');
      writeTree(ws, {
        'a.txt': 'a\n',
        'src/b.ts': seededText(700, 3),
        'bin/x.sh': { mode: 0o755, content: '#!/bin/sh\n' },
      });
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const first = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      return { ws, store, repo, first, out: temp.make('out') };
    }

    it('exports full, incremental and differential archives (exit 0) and prints JSON', async function () {
      if (!HAVE_TAR) this.skip();
      const { ws, store, repo, first, out } = await setup();
      const full = await runExport([first.id.slice(0, 8), path.join(out, 'full.tar.gz'), '--repo', store, '--json']);
      assert.equal(full.code, 0, full.stderr.join('\n'));
      const json = full.json<{ kind: string; file: string; bytes: number; base: string | null; files: number }>();
      assert.equal(json.kind, 'full');
      assert.equal(json.base, null);
      assert.equal(json.files, 3);
      assert.equal(json.bytes, fs.statSync(path.join(out, 'full.tar.gz')).size);

      writeTree(ws, { 'a.txt': 'changed\n' });
      await snapshotterFor(repo, ws).snapshot();
      const inc = await runExport(['latest', path.join(out, 'inc.zip'), '--repo', store, '--since-last']);
      assert.equal(inc.code, 0, inc.stderr.join('\n'));
      assert.match(inc.stdout[0], /^Wrote an incremental archive of snapshot [0-9a-f]{8} /);
      assert.match(inc.stdout.join('\n'), /remove the paths listed in \.project-backup\/deleted\.txt/);
      const diff = await runExport(['latest', path.join(out, 'diff.tgz'), '--repo', store, '--since-full', '--json']);
      assert.equal(diff.code, 0, diff.stderr.join('\n'));
      assert.equal(diff.json<{ kind: string; base: string }>().base, first.id);
      const explicit = await runExport([
        'latest',
        path.join(out, 'explicit.tar.gz'),
        '--repo',
        store,
        '--since',
        first.id.slice(0, 10),
        '--json',
      ]);
      assert.equal(explicit.code, 0, explicit.stderr.join('\n'));
      assert.deepEqual(
        (await listArchives(repo)).map((r) => r.kind),
        ['full', 'incremental', 'differential', 'incremental'],
      );
    });

    it('exit 2 for usage errors (unknown extension, two bases, missing arguments), writing nothing', async () => {
      const { store, first, out } = await setup();
      const cases: string[][] = [
        [first.id, path.join(out, 'a.rar'), '--repo', store],
        [first.id, path.join(out, 'a'), '--repo', store],
        [first.id, path.join(out, 'a.zip'), '--repo', store, '--since-full', '--since-last'],
        [first.id, path.join(out, 'a.zip'), '--repo', store, '--since', first.id, '--since-full'],
        [first.id, '--repo', store],
        [first.id, path.join(out, 'a.zip'), '--repo', store, '--no-such-flag'],
        [first.id, path.join(out, 'a.zip')],
      ];
      for (const args of cases) {
        const run = await runExport(args);
        assert.equal(run.code, EXIT_USAGE, `${args.join(' ')}: ${run.stderr.join(' | ')}`);
      }
      assert.deepEqual(fs.readdirSync(out), []);
    });

    it('exit 1 with one sentence when there is no full archive to be differential to, an unknown snapshot, or an existing file', async () => {
      const { store, first, out } = await setup();
      const noFull = await runExport([first.id, path.join(out, 'd.zip'), '--repo', store, '--since-full']);
      assert.equal(noFull.code, EXIT_ERROR);
      assert.deepEqual(noFull.stderr.filter(Boolean).length, 1);
      assert.match(noFull.stderr[0], /^project-backup: There is no full archive of .* make a full archive first\.$/);
      const unknown = await runExport(['ffffffff', path.join(out, 'x.zip'), '--repo', store]);
      assert.equal(unknown.code, EXIT_ERROR);
      assert.match(unknown.stderr[0], /No snapshot matches "ffffffff"/);
      fs.writeFileSync(path.join(out, 'exists.tar.gz'), 'x');
      const exists = await runExport([first.id, path.join(out, 'exists.tar.gz'), '--repo', store]);
      assert.equal(exists.code, EXIT_ERROR);
      assert.match(exists.stderr[0], /already exists/);
      const forced = await runExport([first.id, path.join(out, 'exists.tar.gz'), '--repo', store, '--force']);
      assert.equal(forced.code, 0, forced.stderr.join('\n'));
    });
  });
});

/** A FileHandlePort's methods bound to it, so they can be spread into a wrapper. */
function bindAll(handle: FileHandlePort): FileHandlePort {
  return {
    read: handle.read.bind(handle),
    write: handle.write.bind(handle),
    writev: handle.writev.bind(handle),
    sync: handle.sync.bind(handle),
    stat: handle.stat.bind(handle),
    close: handle.close.bind(handle),
  };
}

/**
 * Exports in a fresh Node process, sampling its RSS on every blob and every 5 ms: a fresh process, so
 * memory freed by building the store cannot hide growth. Returns the RSS before and the peak during.
 */
function measureExportInChild(
  store: string,
  warmUpId: string,
  snapshotId: string,
  file: string,
): { baseline: number; peak: number } {
  const src = path.resolve(__dirname, '..', '..', 'src');
  const script = `
    const path = require('node:path');
    const [src, store, warmUpId, id, file] = process.argv.slice(1);
    const { Repository } = require(path.join(src, 'core/repository/repository'));
    const { exportArchive } = require(path.join(src, 'core/export/archive'));
    (async () => {
      const repo = await Repository.open(store);
      const snapshot = await repo.loadSnapshot(id);
      // A first small export loads archiver and starts zlib and the thread pool: only what grows with the
      // file should count.
      await exportArchive(repo, { snapshot: await repo.loadSnapshot(warmUpId), file: file + '.warm-up', format: file.endsWith('.zip') ? 'zip' : 'tar.gz' });
      require('node:fs').rmSync(file + '.warm-up');
      let baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sample = () => { const rss = process.memoryUsage().rss; if (rss > peak) peak = rss; };
      const timer = setInterval(sample, 5);
      await exportArchive(repo, { snapshot, file, onProgress: sample });
      clearInterval(timer);
      sample();
      process.stdout.write(JSON.stringify({ baseline, peak }));
    })().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
  `;
  const run = spawnSync(process.execPath, ['-e', script, src, store, warmUpId, snapshotId, file], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(run.status, 0, `the export child failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { baseline: number; peak: number };
}

/**
 * Runs `project-backup export` through runCli once src/cli.ts registers it; until then, calls the command
 * with the same mapping of errors to exit codes that runCli applies.
 */
async function runExport(args: string[]): Promise<CliRun> {
  const viaCli = await runCliCaptured(['export', ...args]);
  if (!(viaCli.code === EXIT_USAGE && viaCli.stderr.some((l) => l.includes('unknown command "export"')))) return viaCli;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: Io = {
    out: (t) => stdout.push(...t.split('\n')),
    err: (t) => stderr.push(...t.split('\n')),
    write: async () => undefined,
    env: {},
  };
  let code: number;
  try {
    code = await exportCommand(args, io, new AbortController().signal);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`project-backup export: ${error.message}`);
      code = EXIT_USAGE;
    } else if (error instanceof BackupError) {
      io.err(`project-backup: ${error.message}`);
      code = EXIT_ERROR;
    } else throw error;
  }
  return { code, stdout, stderr, raw: Buffer.alloc(0), json: <T>() => JSON.parse(stdout.join('\n')) as T };
}
