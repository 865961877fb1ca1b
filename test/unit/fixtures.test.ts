// The fixtures other tests rely on: if writeTree/readTree lied, every round-trip test would be worthless.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TreeSpec } from './helpers/fixtures';
import {
  expectedTree,
  readTree,
  seededBytes,
  seededText,
  useTempDirs,
  writeTree,
  xorshift32,
} from './helpers/fixtures';

describe('test fixtures', () => {
  const temp = useTempDirs();

  it('writeTree then readTree gives back files with modes, links with targets and empty folders', () => {
    const root = temp.make('fx');
    const spec: TreeSpec = {
      'a.txt': 'hello',
      'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\n' },
      'data/blob.bin': Buffer.from([0, 1, 2, 255]),
      empty: { dir: true },
      'full/child.txt': '',
      full: { dir: true },
      link: { symlink: '../elsewhere' },
    };
    writeTree(root, spec);
    assert.equal(fs.statSync(path.join(root, 'bin/run.sh')).mode & 0o777, 0o755);
    assert.equal(fs.readlinkSync(path.join(root, 'link')), '../elsewhere');
    const read = readTree(root);
    assert.deepEqual(read, expectedTree(spec));
    assert.deepEqual(Object.keys(read).sort(), [
      'a.txt',
      'bin/run.sh',
      'data/blob.bin',
      'empty',
      'full/child.txt',
      'link',
    ]);
  });

  it('readTree notices a changed byte, a changed mode and a missing empty folder', () => {
    const root = temp.make('fx');
    writeTree(root, { 'a.txt': 'abc', e: { dir: true } });
    const before = readTree(root);
    fs.writeFileSync(path.join(root, 'a.txt'), 'abd');
    assert.notDeepEqual(readTree(root), before);
    fs.writeFileSync(path.join(root, 'a.txt'), 'abc');
    fs.chmodSync(path.join(root, 'a.txt'), 0o600);
    assert.notDeepEqual(readTree(root), before);
    fs.chmodSync(path.join(root, 'a.txt'), 0o644);
    assert.deepEqual(readTree(root), before);
    fs.rmdirSync(path.join(root, 'e'));
    assert.notDeepEqual(readTree(root), before);
  });

  it('seeded data is deterministic per seed and differs between seeds', () => {
    assert.ok(seededBytes(4099, 1).equals(seededBytes(4099, 1)));
    assert.ok(!seededBytes(4099, 1).equals(seededBytes(4099, 2)));
    assert.equal(seededBytes(4099, 1).length, 4099);
    assert.equal(seededText(1000, 5), seededText(1000, 5));
    assert.equal(seededText(1000, 5).length, 1000);
    const a = xorshift32(7);
    const b = xorshift32(7);
    for (let i = 0; i < 10; i++) assert.equal(a(), b());
  });
});
