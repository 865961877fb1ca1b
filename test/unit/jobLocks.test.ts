// Each use case takes its own lock in core (#13): label, pin, delete, mirror and restore hold a shared lock
// while they work, so a prune (which needs the store alone) waits for them, whichever front called them;
// the editor and the CLI take none. Each job is paused inside its work (a gate on the repository call it
// makes), and a prune from another process's view of the store must then give up with REPO_LOCKED.
// Also: a CLI restore with --delete leaves alone what the snapshot's own exclude rules left out.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mirror } from '../../src/core/export/mirror';
import type { Repository } from '../../src/core/repository/repository';
import { Restorer } from '../../src/core/restore/restorer';
import { applyVerify, planVerify } from '../../src/core/check/verifyJob';
import { applyRestore, planRestore } from '../../src/core/restore/restoreJob';
import { prune } from '../../src/core/retention/prune';
import { removeSnapshot, setLabel, setPinned } from '../../src/core/snapshot/annotate';
import { applyTag, planTag } from '../../src/core/snapshot/tagJob';
import { applyMirror, planMirror } from '../../src/core/export/mirror';
import { openRepo, rejectionCode, runCliCaptured, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

/** Pauses the first call of `method` on `repo` until `open()`; `entered` resolves when the job got there. */
function gate(repo: Repository, method: 'saveSnapshot' | 'removeSnapshot' | 'loadBlob' | 'loadBlobAt') {
  const target = repo as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target[method].bind(repo);
  let open!: () => void;
  let entered!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (entered = resolve));
  let first = true;
  target[method] = async (...args: unknown[]) => {
    if (first) {
      first = false;
      entered();
      await opened;
    }
    return original(...args);
  };
  return { open, entered: reached };
}

describe('each job takes its own lock: a concurrent prune waits for it (#13)', () => {
  const temp = useTempDirs();

  async function setup() {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n' });
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    return { ws, store, repo, snapshot };
  }

  async function pruneIsRefused(store: string): Promise<void> {
    // Another process's view of the store: it sees the job's lock file and, with a short wait, gives up.
    const other = await openRepo(store);
    const { code } = await rejectionCode(() => prune(other, { lockWaitMs: 300 }));
    assert.equal(code, 'REPO_LOCKED');
  }

  const jobs: Array<{
    name: string;
    method: 'saveSnapshot' | 'removeSnapshot' | 'loadBlob' | 'loadBlobAt';
    run: (repo: Repository, snapshotId: string, dirs: { target: string }) => Promise<unknown>;
  }> = [
    { name: 'label', method: 'saveSnapshot', run: (repo, id) => setLabel(repo, id, 'kept') },
    { name: 'pin', method: 'saveSnapshot', run: (repo, id) => setPinned(repo, id, true) },
    { name: 'delete', method: 'removeSnapshot', run: (repo, id) => removeSnapshot(repo, id) },
    // The doors the editor's Label, Pin and Delete and the CLI's tag call (#13).
    {
      name: 'tag: label and pin through the door',
      method: 'saveSnapshot',
      run: async (repo, id) => applyTag(await planTag(repo, id, { label: 'kept', pinned: true })),
    },
    {
      name: 'tag: delete through the door',
      method: 'removeSnapshot',
      run: async (repo, id) => applyTag(await planTag(repo, id, { remove: true })),
    },
    {
      name: 'mirror',
      method: 'loadBlob',
      run: async (repo, id, dirs) => mirror(repo, await repo.loadSnapshot(id), dirs.target),
    },
    {
      name: 'restore',
      method: 'loadBlob',
      run: async (repo, id, dirs) => new Restorer(repo).restore(await repo.loadSnapshot(id), { target: dirs.target }),
    },
  ];

  for (const job of jobs) {
    it(`${job.name} holds a shared lock while it works, so prune waits for it (#13)`, async () => {
      const { store, repo, snapshot } = await setup();
      const target = path.join(temp.make('out'), 'target');
      // Mirror and restore may read through loadBlobAt instead: gate both, whichever comes first counts.
      const gates =
        job.method === 'loadBlob' ? [gate(repo, 'loadBlob'), gate(repo, 'loadBlobAt')] : [gate(repo, job.method)];
      const running = job.run(repo, snapshot.id, { target });
      await Promise.race(gates.map((g) => g.entered));
      try {
        await pruneIsRefused(store);
      } finally {
        for (const g of gates) g.open();
      }
      await running;
      // Done, the lock is gone: prune runs.
      await prune(await openRepo(store), { lockWaitMs: 30_000 });
    });
  }

  it('restore through its door: planning takes no lock, apply holds a shared lock, so prune waits for it (#13)', async () => {
    const { store, repo, snapshot } = await setup();
    const target = path.join(temp.make('out'), 'target');
    const plan = await planRestore(repo, snapshot, { target });
    // Planned and not applied (a front asking the user): the store is free, prune runs.
    await prune(await openRepo(store), { lockWaitMs: 30_000 });
    const gates = [gate(repo, 'loadBlob'), gate(repo, 'loadBlobAt')];
    const running = applyRestore(plan);
    await Promise.race(gates.map((g) => g.entered));
    try {
      await pruneIsRefused(store);
    } finally {
      for (const g of gates) g.open();
    }
    await running;
    assert.equal(fs.readFileSync(path.join(target, 'a.txt'), 'utf8'), 'a\n');
    await prune(await openRepo(store), { lockWaitMs: 30_000 });
  });

  it('mirror through its door: planning takes no lock, apply holds a shared lock, so prune waits for it (#13)', async () => {
    const { store, repo, snapshot } = await setup();
    const plan = await planMirror(repo, snapshot, path.join(temp.make('out'), 'mirror'));
    await prune(await openRepo(store), { lockWaitMs: 30_000 });
    const gates = [gate(repo, 'loadBlob'), gate(repo, 'loadBlobAt')];
    const running = applyMirror(plan);
    await Promise.race(gates.map((g) => g.entered));
    try {
      await pruneIsRefused(store);
    } finally {
      for (const g of gates) g.open();
    }
    assert.deepEqual((await running).problems, []);
  });

  it('verify through its door holds a shared lock while it reads, so prune waits for it (#13)', async () => {
    const { store, repo } = await setup();
    // Verify reads the store as it is on disk, past the repository: gate the backend's listing of snapshots.
    const backend = repo.backend as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const list = backend.list.bind(repo.backend);
    let open!: () => void;
    let entered!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (entered = resolve));
    backend.list = async (...args: unknown[]) => {
      if (args[0] === 'snapshots') {
        entered();
        await opened;
      }
      return list(...args);
    };
    const running = applyVerify(planVerify(repo));
    await reached;
    try {
      await pruneIsRefused(store);
    } finally {
      open();
    }
    assert.equal((await running).report.ok, true);
    await prune(await openRepo(store), { lockWaitMs: 30_000 });
  });

  it("a CLI restore with --delete leaves alone what the snapshot's own rules exclude (#13)", async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'src/app.js': 'v1\n', 'data/huge.bin': 'not backed up on purpose\n' });
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    // Taken as the editor takes it, with the workspace's own excludes (its settings leave data/ out).
    const { snapshot } = await snapshotterFor(repo, ws, { excludes: ['node_modules', 'data/'] }).snapshot();
    assert.deepEqual(snapshot.rules, { excludes: ['node_modules', 'data/'] });
    fs.writeFileSync(path.join(ws, 'src', 'app.js'), 'v2\n');
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', ws, '--delete']);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(fs.readFileSync(path.join(ws, 'src', 'app.js'), 'utf8'), 'v1\n');
    assert.equal(
      fs.readFileSync(path.join(ws, 'data', 'huge.bin'), 'utf8'),
      'not backed up on purpose\n',
      'an excluded folder was deleted',
    );
  });

  it('a snapshot taken with the default rules records none (records stay small) (#13)', async () => {
    const { snapshot } = await setup();
    assert.equal(snapshot.rules, undefined);
  });
});
