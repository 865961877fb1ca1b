// A full snapshot must let the event loop turn while it scans. In the editor it runs inside the extension
// host, shared by every extension: a scan that held the loop for its whole duration froze our own prompts
// (Snapshot Workspace's label box took seconds to appear in a fresh window, and the e2e tests that waited
// for it failed on a loaded machine) and every other extension with them.

import * as assert from 'node:assert/strict';
import type { TreeSpec } from './helpers/fixtures';
import { openRepo, snapshotterFor, spyPort, useTempDirs, writeTree } from './helpers/fixtures';

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
