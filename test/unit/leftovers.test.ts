// Nothing of ours stays in a user's folder (#11.7): the built CLI is killed with SIGKILL while a restore
// writes a large file into the target, and while an export writes its archive; the temp file the kill left
// is there, and the next run of the same command removes it (temp names carry the writer's pid, so a live
// writer's temp file is never taken).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTempName, sweepTemps, tempPathFor } from '../../src/core/storage/atomic';
import { nodeFs } from '../../src/core/storage/fsPort';
import {
  DIST_CLI,
  MiB,
  listAll,
  openRepo,
  runCliCaptured,
  seededBytes,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

const tempsIn = (dir: string) => listAll(dir).filter((p) => isTempName(path.posix.basename(p)));

/** Runs the built CLI and SIGKILLs it the moment a temp file of ours appears in `watch`; resolves to the signal (null if it finished first). */
function killOnTemp(args: string[], watch: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.PROJECT_BACKUP_REPO;
    const child = spawn(process.execPath, [DIST_CLI, ...args], { env, stdio: 'ignore' });
    const watcher = fs.watch(watch, (_event, file) => {
      if (file && isTempName(String(file))) child.kill('SIGKILL');
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      watcher.close();
      resolve(signal);
    });
  });
}

describe('a killed restore or export leaves nothing behind after the next run (#11.7)', () => {
  const temp = useTempDirs();

  async function setup() {
    const ws = temp.make('ws');
    writeTree(ws, { 'big.bin': seededBytes(24 * MiB, 7), 'small.txt': 'small\n' });
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    return { ws, store, snapshot };
  }

  it('a restore killed while writing big.bin leaves a temp file in the target; the next restore removes it (#11.7)', async () => {
    const { ws, store, snapshot } = await setup();
    const target = temp.make('target');
    let left: string[] = [];
    // The kill lands while the temp file is written; a few tries in case a run finishes first on a fast disk.
    for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
      fs.rmSync(target, { recursive: true, force: true });
      fs.mkdirSync(target);
      const signal = await killOnTemp(['restore', snapshot.id, '--repo', store, '--target', target], target);
      if (signal === 'SIGKILL') left = tempsIn(target);
    }
    assert.ok(left.length > 0, 'a killed restore left a temp file (the case to clean up)');
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(tempsIn(target), [], 'the next restore removed what the killed one left');
    assert.deepEqual(fs.readFileSync(path.join(target, 'big.bin')), fs.readFileSync(path.join(ws, 'big.bin')));
  });

  it('an export killed while writing leaves a temp file beside the archive; the next export removes it (#11.7)', async () => {
    const { store, snapshot } = await setup();
    const folder = temp.make('archives');
    const file = path.join(folder, 'a.tar.gz');
    let left: string[] = [];
    for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
      fs.rmSync(file, { force: true });
      const signal = await killOnTemp(['export', snapshot.id, file, '--repo', store], folder);
      if (signal === 'SIGKILL') left = tempsIn(folder);
    }
    assert.ok(left.length > 0, 'a killed export left a temp file (the case to clean up)');
    fs.rmSync(file, { force: true });
    const run = await runCliCaptured(['export', snapshot.id, file, '--repo', store]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(listAll(folder), ['a.tar.gz'], 'only the archive is there');
  });

  it("a live writer's temp file is never swept, a dead one's is, and folders or other names are left alone (#11.7)", async () => {
    const dir = temp.make('sweep');
    const mine = tempPathFor(path.join(dir, 'x'));
    fs.writeFileSync(mine, 'in progress');
    // A pid far above any pid_max: no process has it.
    const dead = path.join(dir, `.pb-tmp-${(2 ** 30).toString(36)}-abcdef`);
    fs.writeFileSync(dead, 'left by a kill');
    fs.mkdirSync(path.join(dir, `.pb-tmp-${(2 ** 30).toString(36)}-folder`));
    fs.writeFileSync(path.join(dir, '.pb-tmp-notes.txt'), 'a user file');
    assert.equal(await sweepTemps(nodeFs, dir), 1);
    assert.deepEqual(
      fs.readdirSync(dir).sort(),
      [path.basename(mine), `.pb-tmp-${(2 ** 30).toString(36)}-folder`, '.pb-tmp-notes.txt'].sort(),
    );
  });
});
