// Notable moments (#14): a burst of files deleted, emptied or rewritten outside the editor is told from the
// watcher's snapshots (20 files, or 10% of the workspace when that is more, within a few seconds), and git
// moving HEAD (a branch switch, a pull) names the snapshot before it. Automatic labels: never over a user's
// label, cleared by one, kept by retention for 30 days and not forever.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Change } from '../../src/core/query/diff';
import {
  BurstTracker,
  burstLabel,
  burstSentence,
  burstThreshold,
  gitMoveLabel,
  gitOperation,
} from '../../src/core/query/notable';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { decodeSnapshot, encodeSnapshot } from '../../src/core/repository/snapshotRecord';
import { AUTO_LABEL_KEEP_MS, applyPolicy } from '../../src/core/retention/policy';
import { forget } from '../../src/core/retention/forget';
import { setAutoLabel, setLabel } from '../../src/core/snapshot/annotate';
import { lastHeadMove } from '../../src/core/workspace/gitInfo';
import { nodeFs } from '../../src/core/storage/fsPort';
import { git, openRepo, rejectionCode, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

const DAY = 86_400_000;
let n = 0;

function rec(
  time: number,
  options: { files?: number; git?: SnapshotRecord['git']; label?: string; auto?: boolean; id?: string } = {},
): SnapshotRecord {
  n++;
  return {
    v: 1,
    id: options.id ?? n.toString(16).padStart(32, '0'),
    time: new Date(time).toISOString(),
    workspace: { path: '/w', id: 'w' },
    host: 'h',
    trigger: 'external',
    tree: n.toString(16).padStart(64, '0'),
    stats: {
      files: options.files ?? 100,
      dirs: 0,
      symlinks: 0,
      bytes: 0,
      filesNew: 0,
      filesChanged: 0,
      filesDeleted: 0,
      bytesAdded: 0,
      dataAdded: 0,
      blobsAdded: 0,
      skipped: 0,
    },
    tool: 't',
    ...(options.git ? { git: options.git } : {}),
    ...(options.label ? { label: options.label } : {}),
    ...(options.auto ? { autoLabel: true as const } : {}),
  };
}

const file = (size: number) => ({ type: 'file' as const, name: 'x', mode: 0o644, size, content: [] });
const deleted = (p: string): Change => ({ path: p, kind: 'deleted', before: file(10) });
const deletedDir = (p: string): Change => ({
  path: p,
  kind: 'deleted',
  before: { type: 'dir', name: 'd', tree: '0'.repeat(64) },
});
const emptied = (p: string): Change => ({ path: p, kind: 'modified', before: file(10), after: file(0) });
const rewritten = (p: string): Change => ({ path: p, kind: 'modified', before: file(10), after: file(12) });
const names = (count: number, prefix = 'f') =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}.txt`);

describe('mass deletion and rewrite bursts (#14)', () => {
  it('the threshold is 20 files, or 10% of the workspace when that is more', () => {
    assert.equal(burstThreshold(0), 20);
    assert.equal(burstThreshold(150), 20);
    assert.equal(burstThreshold(200), 20);
    assert.equal(burstThreshold(201), 21);
    assert.equal(burstThreshold(5000), 500);
  });

  it('19 files deleted: no burst; 20: one, reported once, naming the snapshot just before', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const before = rec(t0, { files: 120 });
    const nineteen = new BurstTracker().add({ before, after: rec(t0 + 2000), changes: names(19).map(deleted) });
    assert.deepEqual(nineteen.bursts, []);

    const tracker = new BurstTracker();
    const after = rec(t0 + 2000);
    const outcome = tracker.add({ before, after, changes: names(20).map(deleted) });
    assert.equal(outcome.bursts.length, 1);
    const [burst] = outcome.bursts;
    assert.equal(burst.kind, 'deleted');
    assert.equal(burst.before, before);
    assert.equal(burst.files.length, 20);
    assert.equal(burstSentence(burst), '20 files deleted outside the editor');
    assert.equal(burstLabel(burst), 'before 20 files deleted outside the editor');
    // More deletions a moment later are the same burst: not reported again, but Restore Them takes them too.
    const later = tracker.add({ before: after, after: rec(t0 + 4000), changes: names(5, 'g').map(deleted) });
    assert.deepEqual(later.bursts, []);
    assert.equal(burst.files.length, 25);
  });

  it('deletions spread over several snapshots within the window add up; beyond it, or after a broken chain, they do not', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const s0 = rec(t0, { files: 50 });
    const s1 = rec(t0 + 2000);
    const s2 = rec(t0 + 5000);
    const tracker = new BurstTracker();
    assert.deepEqual(tracker.add({ before: s0, after: s1, changes: names(12).map(deleted) }).bursts, []);
    const crossing = tracker.add({ before: s1, after: s2, changes: names(8, 'g').map(deleted) });
    assert.equal(crossing.bursts.length, 1);
    assert.equal(crossing.bursts[0].before, s0, 'Restore Them restores from before the first of them');

    const slow = new BurstTracker();
    slow.add({ before: s0, after: s1, changes: names(12).map(deleted) });
    assert.deepEqual(
      slow.add({ before: s1, after: rec(t0 + 15_000), changes: names(8, 'g').map(deleted) }).bursts,
      [],
      '12 files, then 8 more over 13 s: not a burst',
    );

    const broken = new BurstTracker();
    broken.add({ before: s0, after: s1, changes: names(12).map(deleted) });
    assert.deepEqual(
      broken.add({ before: rec(t0 + 3000), after: s2, changes: names(8, 'g').map(deleted) }).bursts,
      [],
      'another snapshot in between starts over',
    );
  });

  it('"just before" is the snapshot before the deletions began, not an unrelated change a moment earlier', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const s0 = rec(t0, { files: 60 });
    const s1 = rec(t0 + 2000);
    const tracker = new BurstTracker();
    tracker.add({ before: s0, after: s1, changes: [rewritten('notes.md')] });
    const { bursts } = tracker.add({ before: s1, after: rec(t0 + 4000), changes: names(25).map(deleted) });
    assert.equal(bursts[0].before, s1, 'notes.md as rewritten a moment before stays as it is');
  });

  it('counts files, not folders; restores a deleted folder once; emptied files count as lost', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const changes = [
      deletedDir('build'),
      ...names(15, 'build/').map(deleted),
      ...names(5, 'docs/').map(emptied),
      deletedDir('empty'),
    ];
    const { bursts } = new BurstTracker().add({ before: rec(t0, { files: 60 }), after: rec(t0 + 1000), changes });
    assert.equal(bursts.length, 1);
    assert.equal(bursts[0].files.length, 20, 'two folders are not files');
    assert.equal(bursts[0].emptied.length, 5);
    assert.equal(burstSentence(bursts[0]), '20 files deleted or emptied outside the editor');
    assert.deepEqual(bursts[0].restorePaths(), ['build', ...names(5, 'docs/'), 'empty']);
  });

  it("the 10% is of the workspace's own files, not its .git objects", () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const before = rec(t0, { files: 5000 });
    const step = { before, after: rec(t0 + 1000), changes: names(30).map(deleted) };
    assert.deepEqual(new BurstTracker().add(step).bursts, [], '30 of 5,000 files');
    assert.equal(
      new BurstTracker().add({ ...step, workspaceFiles: 150 }).bursts.length,
      1,
      '30 of 150 files (4,850 are .git objects)',
    );
  });

  it('ignores what was saved, deleted or restored in the editor', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const mine = new Set(names(5));
    const { bursts } = new BurstTracker().add(
      { before: rec(t0), after: rec(t0 + 1000), changes: names(22).map(deleted) },
      (c) => mine.has(c.path),
    );
    assert.deepEqual(bursts, [], '22 deleted, 5 of them in the editor: 17 outside it');
  });

  it('a burst of rewrites is reported as such; a folder wiped and regenerated is a rewrite, not a loss', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const s0 = rec(t0);
    const s1 = rec(t0 + 1000);
    const tracker = new BurstTracker();
    assert.deepEqual(
      tracker.add({ before: s0, after: s1, changes: names(20).map(deleted) }).bursts.map((b) => b.kind),
      ['deleted'],
    );
    // A generator wipes its folder (19 files) and rewrites one more; then writes the 19 again.
    const regenerated = names(19).map((p): Change => ({ path: p, kind: 'added', after: file(12) }));
    const again = new BurstTracker();
    assert.deepEqual(
      again.add({ before: s0, after: s1, changes: [...names(19).map(deleted), rewritten('index.txt')] }).bursts,
      [],
    );
    const outcome = again.add({ before: s1, after: rec(t0 + 2000), changes: regenerated });
    assert.deepEqual(
      outcome.bursts.map((b) => [b.kind, b.files.length]),
      [['rewritten', 20]],
    );
    const tool = new BurstTracker().add({ before: s0, after: s1, changes: names(20).map(rewritten) });
    assert.deepEqual(
      tool.bursts.map((b) => [b.kind, burstSentence(b)]),
      [['rewritten', '20 files rewritten outside the editor']],
    );
  });

  it('git moving HEAD is no alarm: the moment before is labelled instead', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const before = rec(t0, { git: { branch: 'feature', head: 'a'.repeat(40) } });
    const after = rec(t0 + 1000, { git: { branch: 'main', head: 'b'.repeat(40) } });
    const outcome = new BurstTracker().add(
      { before, after, changes: names(30).map(deleted) },
      undefined,
      'checkout: moving from feature to main',
    );
    assert.deepEqual(outcome.bursts, []);
    assert.equal(outcome.gitMove?.before, before);
    assert.equal(outcome.gitMove?.label, 'before switching to main');
  });

  it('labels the snapshot just before the switch, not an unrelated one a moment earlier', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const s0 = rec(t0, { git: { branch: 'feature', head: 'a'.repeat(40) } });
    const s1 = rec(t0 + 2000, { git: { branch: 'feature', head: 'a'.repeat(40) } });
    const tracker = new BurstTracker();
    assert.equal(tracker.add({ before: s0, after: s1, changes: [rewritten('notes.md')] }).gitMove, undefined);
    const outcome = tracker.add({
      before: s1,
      after: rec(t0 + 4000, { git: { branch: 'main', head: 'b'.repeat(40) } }),
      changes: names(3).map(rewritten),
    });
    assert.equal(outcome.gitMove?.before, s1);
  });

  it('labels a pull or rebase that changed many files, and not a commit', () => {
    const t0 = Date.parse('2024-05-15T10:00:00Z');
    const before = rec(t0, { git: { branch: 'main', head: 'a'.repeat(40) } });
    const after = rec(t0 + 1000, { git: { branch: 'main', head: 'b'.repeat(40) } });
    assert.equal(gitMoveLabel(before, after, 48, 'pull: Fast-forward'), 'before pull on main (48 files changed)');
    assert.equal(
      gitMoveLabel(before, after, 48, 'rebase (finish): returning to refs/heads/main'),
      'before rebase on main (48 files changed)',
    );
    assert.equal(gitMoveLabel(before, after, 48, undefined), 'before git changed 48 files on main');
    assert.equal(gitMoveLabel(before, after, 2, 'commit: fix'), undefined);
    assert.equal(gitMoveLabel(before, rec(t0, { git: { head: 'c'.repeat(40) } }), 0), 'before switching to cccccccc');
    assert.equal(gitOperation('pull --rebase (finish): returning to refs/heads/main'), 'pull --rebase');
    assert.equal(gitOperation('commit (amend): x'), undefined);
  });

  it('reads what moved HEAD from the reflog of a real repository', async function () {
    this.timeout(30_000);
    const ws = temp.make('repo');
    git(ws, 'init', '-q', '-b', 'main');
    writeTree(ws, { 'a.txt': 'a' });
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'one');
    git(ws, 'checkout', '-q', '-b', 'feature');
    assert.equal(await lastHeadMove(nodeFs, ws), 'checkout: moving from main to feature');
    assert.equal(await lastHeadMove(nodeFs, temp.make('plain')), undefined);
  });

  it('a real mass deletion of never-saved files, seen through a snapshotter, is one burst that restores them', async () => {
    const ws = temp.make('ws');
    const spec: Record<string, string> = { 'keep.txt': 'k' };
    for (const name of names(30, 'untracked/')) spec[name] = `generated ${name}\n`;
    writeTree(ws, spec);
    const repo = await openRepo(temp.make('store'));
    const snapshotter = snapshotterFor(repo, ws);
    await snapshotter.snapshot({ trigger: 'startup' });
    fs.rmSync(path.join(ws, 'untracked'), { recursive: true });
    const result = await snapshotter.snapshot({ trigger: 'external', paths: ['untracked'] });
    assert.ok(result.parent, 'the result names the snapshot before');
    const { bursts } = new BurstTracker().add({
      before: result.parent,
      after: result.snapshot,
      changes: result.changes,
    });
    assert.deepEqual(
      bursts.map((b) => [b.kind, b.files.length, b.restorePaths()]),
      [['deleted', 30, ['untracked']]],
    );
  });

  const temp = useTempDirs();
});

describe('automatic labels (#14)', () => {
  const temp = useTempDirs();

  it('retention keeps an automatic label for 30 days, a user label forever', () => {
    const now = new Date('2024-06-30T12:00:00Z');
    const old = (days: number, options: Parameters<typeof rec>[1] = {}) => rec(now.getTime() - days * DAY, options);
    const latest = old(0);
    const autoRecent = old(29, { label: 'before switching to main', auto: true });
    const autoOld = old(31, { label: 'before switching to main', auto: true });
    const userOld = old(400, { label: 'release 1.0' });
    const plain = old(29);
    const decisions = applyPolicy([userOld, autoOld, autoRecent, plain, latest], { keepLast: 1 }, now);
    assert.deepEqual(
      decisions.map((d) => [d.snapshot.label ?? '-', d.keep, d.reasons.join(',')]),
      [
        ['release 1.0', true, 'labelled'],
        ['before switching to main', false, ''],
        ['before switching to main', true, 'auto-labelled'],
        ['-', false, ''],
        ['-', true, 'latest,last-1'],
      ],
    );
    assert.equal(AUTO_LABEL_KEEP_MS, 30 * DAY);
    const longer = applyPolicy([autoOld, latest], { keepLast: 1, keepAutoLabelled: 60 * DAY }, now);
    assert.equal(longer[0].keep, true, 'the time is a rule of the policy');
  });

  it('an automatic label never replaces a user label; a user label clears the automatic mark; records round-trip', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'one' });
    const repo = await openRepo(temp.make('store'));
    const snapshotter = snapshotterFor(repo, ws);
    const first = (await snapshotter.snapshot()).snapshot;
    const labelled = await setAutoLabel(repo, first.id, 'before switching to main');
    assert.deepEqual([labelled?.label, labelled?.autoLabel], ['before switching to main', true]);
    assert.equal(
      await setAutoLabel(repo, first.id, 'before pull'),
      undefined,
      'labels never stack or replace each other',
    );
    const mine = await setLabel(repo, first.id, 'my label');
    assert.equal(mine.autoLabel, undefined);
    assert.equal(await setAutoLabel(repo, first.id, 'before pull'), undefined, "a user's label stays");
    assert.equal((await repo.loadSnapshot(first.id)).label, 'my label');
    const auto = { ...first, label: 'x', autoLabel: true as const };
    assert.deepEqual(decodeSnapshot(encodeSnapshot(auto), 'record'), auto);
    const bad = Buffer.from(encodeSnapshot(auto).toString('utf8').replace('"autoLabel":true', '"autoLabel":"yes"'));
    assert.equal((await rejectionCode(async () => decodeSnapshot(bad, 'record'))).code, 'OBJECT_DAMAGED');
  });

  it('a snapshot asked for with an automatic label carries it; when nothing changed the existing one gets it, unless labelled', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'one' });
    const repo = await openRepo(temp.make('store'));
    const snapshotter = snapshotterFor(repo, ws);
    const first = await snapshotter.snapshot({ autoLabel: 'before restoring src from 10:02' });
    assert.deepEqual([first.snapshot.label, first.snapshot.autoLabel], ['before restoring src from 10:02', true]);
    writeTree(ws, { 'a.txt': 'two' });
    const second = await snapshotter.snapshot();
    const same = await snapshotter.snapshot({ autoLabel: 'before restoring everything from 10:05' });
    assert.equal(same.created, false);
    assert.deepEqual(
      [same.snapshot.id, same.snapshot.label, same.snapshot.autoLabel],
      [second.snapshot.id, 'before restoring everything from 10:05', true],
    );
    const again = await snapshotter.snapshot({ autoLabel: 'before restoring a.txt' });
    assert.equal(again.snapshot.label, 'before restoring everything from 10:05', 'an existing label is kept');
    const user = await snapshotter.snapshot({ label: 'mine', autoLabel: 'ignored' });
    assert.deepEqual([user.snapshot.label, user.snapshot.autoLabel], ['mine', undefined]);
  });

  it('forget removes a snapshot whose automatic label has expired, and keeps a fresh one', async () => {
    const ws = temp.make('ws');
    const repo = await openRepo(temp.make('store'));
    const snapshotter = snapshotterFor(repo, ws);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      writeTree(ws, { 'a.txt': `v${i}` });
      ids.push((await snapshotter.snapshot({ autoLabel: `before step ${i}` })).snapshot.id);
    }
    const now = new Date(Date.now() + 31 * DAY);
    const report = await forget(repo, { policy: { keepLast: 1 }, now });
    assert.deepEqual(report.removed.map((s) => s.id).sort(), ids.slice(0, 2).sort());
    const soon = await forget(repo, { policy: { keepLast: 1 }, now: new Date() });
    assert.deepEqual(soon.removed, []);
  });
});
