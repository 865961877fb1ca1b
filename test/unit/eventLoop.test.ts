// A full snapshot must let the event loop turn while it scans. In the editor it runs inside the extension
// host, shared by every extension: a scan that held the loop for its whole duration froze our own prompts
// (Snapshot Workspace's label box took seconds to appear in a fresh window, and the e2e tests that waited
// for it failed on a loaded machine) and every other extension with them.

import * as assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import {
  SHARED_PROCESS_DEFLATES,
  compress,
  decompress,
  deflateOnEveryCore,
  deflatesInFlight,
} from '../../src/core/repository/compression';
import { setLoopShared, setTurnBudget } from '../../src/core/eventLoop';
import { WorkPool } from '../../src/core/workPool';
import type { TreeSpec } from './helpers/fixtures';
import { openRepo, snapshotterFor, spyPort, turnCounter, useTempDirs, writeTree } from './helpers/fixtures';

describe('the event loop during a full snapshot', () => {
  const temp = useTempDirs();

  it('a no-change full snapshot lets the loop turn mid-scan (the label box froze behind a start-up scan)', async () => {
    // 600 folders of 4 files: the no-change path reads nothing, so without turns it would be one block.
    const spec: TreeSpec = {};
    for (let d = 0; d < 600; d++) for (let f = 0; f < 4; f++) spec[`d${d}/f${f}.txt`] = `${d}-${f}\n`;
    const ws = temp.make('ws');
    writeTree(ws, spec);
    const store = temp.make('store');
    const port = spyPort();
    const repo = await openRepo(store, { port });
    await snapshotterFor(repo, ws).snapshot();

    // A second snapshot changes nothing (the stat cache trusts every file); count the folders listed so far
    // at each turn of the loop. A scan that holds the loop is seen by no turn between its first and last folder.
    port.reset();
    const listed = () => port.callsUnder(ws, 'readdirSync').length;
    const seen: number[] = [];
    let running = true;
    const tick = () => {
      seen.push(listed());
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const result = await snapshotterFor(repo, ws).snapshot();
    running = false;
    assert.equal(result.created, false, 'nothing changed');
    const total = listed();
    assert.ok(total >= 600, `the scan listed ${total} folders`);
    const midScan = seen.filter((n) => n > 0 && n < total);
    assert.ok(
      midScan.length > 0,
      `no turn of the event loop came while the scan ran (turns saw ${JSON.stringify([...new Set(seen)].slice(0, 10))} of ${total} folders listed)`,
    );
  });
});

describe('reading files the page cache has dropped', () => {
  const temp = useTempDirs();

  it('after a synchronous read that went to the disk, small files are read on the thread pool until reads are quick again (a cold first snapshot held the host 20-70 ms 500 times)', async () => {
    const spec: TreeSpec = {};
    for (let d = 0; d < 4; d++) for (let f = 0; f < 100; f++) spec[`d${d}/f${f}.txt`] = `${d}-${f}\n`;
    const ws = temp.make('ws');
    writeTree(ws, spec);
    // The clock is the test's: frozen, except that the 40th synchronous read takes 6 ms, as one that goes to
    // the disk does. Reads on the pool then take no time, so the 32 quick ones in a row bring reads back.
    const realNow = performance.now;
    let clock = 0;
    let syncReads = 0;
    let stalled = false;
    let poolAfter = 0;
    let syncAfter = 0;
    const port = spyPort({
      readFileSync: (base, file) => {
        if (++syncReads === 40) {
          clock += 6;
          stalled = true;
        } else if (stalled) syncAfter++;
        return base.readFileSync(file);
      },
      readFile: (base, file) => {
        if (stalled && file.startsWith(ws)) poolAfter++;
        return base.readFile(file);
      },
    });
    const repo = await openRepo(temp.make('store'), { port });
    performance.now = () => clock;
    let result;
    try {
      result = await snapshotterFor(repo, ws).snapshot();
    } finally {
      performance.now = realNow;
    }
    assert.equal(result.created, true);
    // 32 quick reads on the pool bring synchronous reads back; up to 7 more were already started by the
    // other workers (8 read at once).
    assert.ok(poolAfter >= 32 && poolAfter <= 39, `${poolAfter} files were read on the pool after the slow read`);
    // A slow read in an earlier test may leave reads on the pool at the start (until 32 quick ones): up to 39
    // then, 40 before the stall, up to 39 after; the rest are synchronous again.
    assert.ok(syncAfter >= 270, `${syncAfter} files were read synchronously once reads were quick again`);
    const back = await snapshotterFor(repo, ws).snapshot();
    assert.equal(back.created, false, 'every file was stored as it is');
  });
});

describe('reading cold files in a process whose loop waits on nobody', () => {
  const temp = useTempDirs();

  it('the CLI keeps reading small files synchronously after a slow read (on the pool its first snapshot of 200,000 files took 2-3 times as long)', async () => {
    const spec: TreeSpec = {};
    for (let f = 0; f < 200; f++) spec[`d/f${f}.txt`] = `${f}\n`;
    const ws = temp.make('ws');
    writeTree(ws, spec);
    const realNow = performance.now;
    let clock = 0;
    let syncReads = 0;
    const port = spyPort({
      readFileSync: (base, file) => {
        if (++syncReads === 20) clock += 6;
        return base.readFileSync(file);
      },
    });
    const repo = await openRepo(temp.make('store'), { port });
    setLoopShared(false);
    performance.now = () => clock;
    try {
      assert.equal((await snapshotterFor(repo, ws).snapshot()).created, true);
    } finally {
      performance.now = realNow;
      setLoopShared(true);
    }
    assert.equal(port.callsUnder(ws, 'readFile').length, 0, 'no file was read on the pool');
    assert.equal(port.callsUnder(ws, 'readFileSync').length, 200);
  });
});

describe('compression beside the event loop', () => {
  // A first snapshot of 10,000 files held the extension host 20-34 ms several times a run with none of our
  // code on the stack: a deflate ran on each of the two cores and the loop waited for a CPU (#16).
  async function peakDeflates(tasks: number): Promise<number> {
    const inputs = Array.from({ length: tasks }, (_, i) => Buffer.from(`line ${i} of some source text\n`.repeat(8000)));
    let peak = 0;
    let running = true;
    const watch = () => {
      peak = Math.max(peak, deflatesInFlight());
      if (running) setImmediate(watch);
    };
    const work = Promise.all(inputs.map((raw) => compress(raw)));
    peak = Math.max(peak, deflatesInFlight());
    setImmediate(watch);
    const packed = await work;
    running = false;
    packed.forEach((p, i) => {
      assert.ok(p.compressed, 'repetitive text compresses');
      assert.deepEqual(decompress(p.data, true, inputs[i].length), inputs[i], `blob ${i} comes back whole`);
    });
    return peak;
  }

  it("the editor's deflates leave a core to the event loop (the host was held while both cores deflated)", async () => {
    const peak = await peakDeflates(2 * availableParallelism() + 2);
    assert.ok(peak >= 1, 'the blobs were deflated on the thread pool');
    assert.ok(peak <= SHARED_PROCESS_DEFLATES, `${peak} deflates ran at once, bound ${SHARED_PROCESS_DEFLATES}`);
    assert.ok(SHARED_PROCESS_DEFLATES < Math.max(2, availableParallelism()), 'one core stays free when there are two');
  });

  it('the CLI, with no loop to keep, deflates on every thread', async () => {
    deflateOnEveryCore();
    try {
      const tasks = 2 * availableParallelism() + 2;
      assert.equal(await peakDeflates(tasks), tasks, 'every blob was handed to the pool at once');
    } finally {
      deflateOnEveryCore(false);
    }
  });
});

describe('the work pool between tasks', () => {
  it('lets the loop turn between tasks that end on microtasks (cold reads chained into 50-110 ms blocks)', async () => {
    // A small file read synchronously and bundled ends without a turn of the loop; a worker that started
    // the next task at once chained reads the page cache had dropped, 2-4 ms each, into one block.
    const pool = new WorkPool(4);
    const loop = turnCounter();
    const perTurn = new Map<number, number>();
    const restore = setTurnBudget(0);
    try {
      await pool.run(1000, async () => {
        perTurn.set(loop.turns(), (perTurn.get(loop.turns()) ?? 0) + 1);
        await Promise.resolve();
      });
    } finally {
      restore();
      loop.stop();
    }
    assert.equal(
      [...perTurn.values()].reduce((a, b) => a + b, 0),
      1000,
      'every task ran',
    );
    const most = Math.max(...perTurn.values());
    assert.ok(most <= 4, `${most} tasks started in one turn of the event loop with 4 workers`);
  });
});
