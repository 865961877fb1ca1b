// The editor's save queue (core/snapshot/saveQueue.ts) under many writers (#11.13): two windows on one
// store saving a file about once a second while the CLI snapshots a third folder in a loop; every save
// whose content differs from the previous one lands in a snapshot, or the log says it was merged.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readWholeFile } from '../../src/core/query/browse';
import type { Repository } from '../../src/core/repository/repository';
import { SaveQueue } from '../../src/core/snapshot/saveQueue';
import { nodeFs } from '../../src/core/storage/fsPort';
import { openRepo, runCliCaptured, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

const SAVES = 10;

interface Window {
  ws: string;
  repo: Repository;
  queue: SaveQueue;
  log: string[];
  errors: unknown[];
}

async function openWindow(store: string, ws: string, captureBelow?: number): Promise<Window> {
  // Each window opens the store itself: its own Repository, index and snapshotter, as an editor window does.
  const repo = await openRepo(store);
  const snapshotter = snapshotterFor(repo, ws, { trigger: 'save' });
  await snapshotter.snapshot();
  const log: string[] = [];
  const errors: unknown[] = [];
  const queue = new SaveQueue(ws, {
    port: nodeFs,
    snapshot: (batch) => snapshotter.snapshot(batch),
    log: (m) => log.push(m),
    onError: (e) => errors.push(e),
    // The timer never fires in these tests: they flush where the timer would, so nothing depends on timing.
    debounceMs: () => 3600_000,
    captureBelow,
  });
  return { ws, repo, queue, log, errors };
}

/** Every distinct content `rel` had across the workspace's snapshots. */
async function versions(window: Window, rel: string): Promise<Set<string>> {
  const repo = await openRepo(window.repo.location);
  const out = new Set<string>();
  for (const s of await repo.listSnapshots()) {
    if (s.workspace.path !== fs.realpathSync(window.ws)) continue;
    out.add((await readWholeFile(repo, s, rel)).toString('utf8'));
  }
  return out;
}

describe('the save queue with several windows and the CLI on one store (#11.13)', () => {
  const temp = useTempDirs();

  /**
   * Each window saves its file SAVES times; each save's debounce ends (flush) while the previous
   * snapshot is still running, and the next save follows before the store has got to this one: on a busy
   * store a snapshot often starts after the next save.
   */
  async function saveLoop(windows: Window[], cliWs: string, store: string): Promise<void> {
    let cliRuns = 0;
    let done = false;
    const cli = (async () => {
      while (!done || cliRuns < 2) {
        writeTree(cliWs, { 'loop.txt': `cli ${cliRuns}` });
        const run = await runCliCaptured(['snapshot', cliWs, '--repo', store]);
        assert.equal(run.code, 0, run.stderr.join('\n'));
        cliRuns++;
      }
    })();
    const flushes: Promise<void>[] = [];
    for (let i = 1; i <= SAVES; i++) {
      for (const w of windows) {
        const file = path.join(w.ws, 'doc.txt');
        fs.writeFileSync(file, `version ${i} of ${path.basename(w.ws)}`);
        w.queue.add('doc.txt', file, 'save');
        flushes.push(w.queue.flush());
      }
      // Let the store work a little between saves (a turn of the event loop, not a fixed time).
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(flushes);
    done = true;
    await cli;
  }

  it('every save of two windows lands in a snapshot while the CLI snapshots a third folder in a loop (#11.13)', async function () {
    this.timeout(120_000);
    const store = temp.fresh('store');
    const windows: Window[] = [];
    for (const name of ['one', 'two']) {
      const ws = temp.make(name);
      writeTree(ws, { 'doc.txt': 'version 0', 'other.txt': name });
      windows.push(await openWindow(store, ws));
    }
    const cliWs = temp.make('cli');
    await saveLoop(windows, cliWs, store);
    for (const w of windows) {
      assert.deepEqual(w.errors, []);
      const got = await versions(w, 'doc.txt');
      const missing = [...Array(SAVES).keys()]
        .map((i) => `version ${i + 1} of ${path.basename(w.ws)}`)
        .filter((v) => !got.has(v));
      assert.deepEqual(missing, [], `saves in no snapshot, and the log says nothing of them:\n${w.log.join('\n')}`);
      assert.equal(w.queue.size, 0);
    }
  });

  it('a save too large to hold is logged as merged when it changed again before its snapshot read it (#11.13)', async function () {
    this.timeout(120_000);
    const store = temp.fresh('store');
    const ws = temp.make('big');
    writeTree(ws, { 'doc.txt': 'version 0' });
    const window = await openWindow(store, ws, 1);
    await saveLoop([window], temp.make('cli'), store);
    const got = await versions(window, 'doc.txt');
    const merged = window.log.filter((m) =>
      /^doc\.txt changed again after it was saved, before its snapshot was recorded; that save may be merged into the later version \(by design\)\.$/.test(
        m,
      ),
    );
    // Every save either has its version or a merge line; the last one always lands.
    assert.ok(got.has(`version ${SAVES} of ${path.basename(ws)}`));
    assert.ok(
      merged.length + [...got].filter((v) => v !== 'version 0').length >= SAVES,
      `${[...got].join(', ')}\n${window.log.join('\n')}`,
    );
  });

  it('a save whose snapshot failed is kept and lands with the next flush (#11.13)', async () => {
    const store = temp.fresh('store');
    const ws = temp.make('ws');
    writeTree(ws, { 'doc.txt': 'version 0' });
    const repo = await openRepo(store);
    const snapshotter = snapshotterFor(repo, ws);
    await snapshotter.snapshot();
    let fail = true;
    const errors: unknown[] = [];
    const log: string[] = [];
    const queue = new SaveQueue(ws, {
      port: nodeFs,
      snapshot: async (batch) => {
        if (fail) throw new Error('store busy');
        return snapshotter.snapshot(batch);
      },
      log: (m) => log.push(m),
      onError: (e) => errors.push(e),
      debounceMs: () => 3600_000,
    });
    fs.writeFileSync(path.join(ws, 'doc.txt'), 'saved while the store failed');
    queue.add('doc.txt', path.join(ws, 'doc.txt'), 'save');
    assert.equal(queue.kept, false, 'a save waiting for its debounce is not kept after a failure');
    await queue.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual(log, ['A save is kept for the next snapshot after a failure.']);
    assert.equal(queue.kept, true, 'the editor cannot tell that saves wait for the store to open');
    fs.writeFileSync(path.join(ws, 'doc.txt'), 'a later save');
    queue.add('doc.txt', path.join(ws, 'doc.txt'), 'save');
    fail = false;
    await queue.flush();
    const contents = new Set<string>();
    for (const s of await (await openRepo(store)).listSnapshots())
      contents.add((await readWholeFile(repo, s, 'doc.txt')).toString('utf8'));
    assert.ok(contents.has('saved while the store failed'));
    assert.ok(contents.has('a later save'));
    assert.equal(queue.kept, false);
  });

  it('a save kept while the store was locked lands with its saved content once the store opens, with no later save (#12)', async () => {
    const store = temp.fresh('store');
    const ws = temp.make('ws');
    writeTree(ws, { 'doc.txt': 'version 0' });
    const repo = await openRepo(store);
    const snapshotter = snapshotterFor(repo, ws);
    await snapshotter.snapshot();
    let locked = true;
    const queue = new SaveQueue(ws, {
      port: nodeFs,
      snapshot: async (batch) => {
        if (locked) throw new Error('The backup store is encrypted and no passphrase was given.');
        return snapshotter.snapshot(batch);
      },
      log: () => undefined,
      debounceMs: () => 3600_000,
    });
    fs.writeFileSync(path.join(ws, 'doc.txt'), 'saved while locked');
    queue.add('doc.txt', path.join(ws, 'doc.txt'), 'save');
    await queue.flush();
    // Edited on disk afterwards without a save (another tool): the kept save still holds what was saved.
    fs.writeFileSync(path.join(ws, 'doc.txt'), 'changed later, never saved in the editor');
    locked = false; // Unlock: the editor flushes what is kept
    assert.equal(queue.kept, true);
    await queue.flush();
    const latest = (await repo.listSnapshots()).at(-1)!;
    assert.equal((await readWholeFile(repo, latest, 'doc.txt')).toString('utf8'), 'saved while locked');
    assert.equal(latest.trigger, 'save');
  });
});
