// Many writers on one store: editor windows, the CLI and scheduled jobs at once. Snapshots from all of them
// land and verify clean, prune never takes data a concurrent snapshot needs, and locks left by dead
// processes never block anyone.

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyRepository } from '../../src/core/check/verify';
import { Repository } from '../../src/core/repository/repository';
import { Restorer } from '../../src/core/restore/restorer';
import { Lock, REFRESH_MS, STALE_MS, isStale } from '../../src/core/storage/lock';
import type { LockInfo } from '../../src/core/storage/lock';
import { LocalBackend } from '../../src/core/storage/localBackend';
import { nodeFs } from '../../src/core/storage/fsPort';
import { readTree, seededText, useTempDirs, writeTree } from './helpers/fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

describe('many writers on one store', function () {
  this.timeout(120_000);
  const temp = useTempDirs();

  before(function () {
    if (!fs.existsSync(CLI)) this.skip(); // npm test builds dist/cli.js before the unit suite
  });

  it('concurrent CLI snapshots of several workspaces, with prunes in between, all land and verify clean', async () => {
    const store = temp.fresh('store');
    const workspaces = [0, 1, 2].map((w) => {
      const ws = temp.make(`ws${w}`);
      const spec: Record<string, string> = {};
      for (let i = 0; i < 60; i++) spec[`dir${i % 6}/file${i}.ts`] = seededText(2000 + i * 50, w * 1000 + i);
      writeTree(ws, spec);
      return ws;
    });
    const expected = new Map<string, ReturnType<typeof readTree>>();
    for (let round = 0; round < 4; round++) {
      // Each round edits every workspace, then snapshots all of them (two processes per workspace) and
      // prunes, all at the same moment.
      for (const [w, ws] of workspaces.entries())
        fs.writeFileSync(path.join(ws, 'dir0', `round${round}.ts`), seededText(5000, round * 10 + w));
      const runs = workspaces.flatMap((ws, w) => [
        runCli(['snapshot', ws, '--repo', store, '--label', `r${round}-w${w}-a`]),
        runCli(['snapshot', ws, '--repo', store, '--label', `r${round}-w${w}-b`]),
      ]);
      // From the second round on, when the store exists (the first round creates it concurrently).
      if (round > 0) runs.push(runCli(['prune', '--repo', store]));
      const results = await Promise.all(runs);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      for (const ws of workspaces) expected.set(`${ws}#${round}`, readTree(ws));
    }
    const repo = await Repository.open(store);
    const report = await verifyRepository(repo, { readData: true });
    assert.equal(report.ok, true, JSON.stringify(report.damage, null, 1));
    const snapshots = await repo.listSnapshots({ reload: true });
    // Two processes per workspace per round: the second finds nothing new unless it won the race.
    assert.ok(snapshots.length >= 12, `only ${snapshots.length} snapshots landed`);
    // The newest snapshot of each workspace restores to its last state, byte for byte.
    for (const ws of workspaces) {
      const real = fs.realpathSync(ws);
      const mine = snapshots.filter((s) => s.workspace.path === real);
      const out = temp.fresh('out');
      const result = await new Restorer(repo).restore(mine[mine.length - 1], { target: out });
      assert.deepEqual(result.problems, []);
      assert.deepEqual(readTree(out), expected.get(`${ws}#3`));
    }
  });

  it('a lock left by a dead process on this host is removed, reported, and blocks nobody', async () => {
    const store = temp.fresh('store');
    await Repository.open(store, { create: true });
    const backend = new LocalBackend(store, nodeFs);
    // A pid that is certainly dead: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => resolve(child.pid as number));
    });
    const stale: LockInfo = {
      host: os.hostname(),
      pid: dead,
      time: new Date().toISOString(),
      exclusive: true,
      purpose: 'prune',
    };
    await backend.save('locks/deadbeef', Buffer.from(JSON.stringify(stale)));
    const reported: LockInfo[] = [];
    const lock = await Lock.acquire(backend, {
      exclusive: false,
      purpose: 'snapshot',
      waitMs: 1000,
      onStale: (info) => reported.push(info),
    });
    await lock.release();
    assert.deepEqual(
      reported.map((r) => r.pid),
      [dead],
    );
    // In its place only the marker that lets the next snapshot clear what the dead writer left (#11.6).
    const left = fs.readdirSync(path.join(store, 'locks'));
    assert.equal(left.length, 1, left.join(', '));
    assert.match(left[0], /^interrupted-/);
  });

  it('a live exclusive lock makes a writer wait, then fail with one sentence naming who holds it', async () => {
    const store = temp.fresh('store');
    await Repository.open(store, { create: true });
    const backend = new LocalBackend(store, nodeFs);
    const held = await Lock.acquire(backend, { exclusive: true, purpose: 'prune' });
    try {
      await assert.rejects(
        Lock.acquire(backend, { exclusive: false, purpose: 'snapshot', waitMs: 300 }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'REPO_LOCKED');
          assert.match(error.message, /locked by prune \(pid \d+ on .+ since .+\)/);
          assert.ok(!error.message.includes('\n'));
          return true;
        },
      );
    } finally {
      await held.release();
    }
    const after = await Lock.acquire(backend, { exclusive: false, purpose: 'snapshot', waitMs: 300 });
    await after.release();
  });

  it('a named claim is held by one process at a time; the claim of a dead holder is taken over', async () => {
    const store = temp.fresh('store');
    await Repository.open(store, { create: true });
    const backend = new LocalBackend(store, nodeFs);
    const first = await Lock.tryClaim(backend, 'schedule-ws1', 'scheduled snapshot');
    assert.ok(first, 'the first claim was refused');
    assert.equal(
      await Lock.tryClaim(backend, 'schedule-ws1', 'scheduled snapshot'),
      undefined,
      'a second holder got the same claim',
    );
    const other = await Lock.tryClaim(backend, 'schedule-ws2', 'scheduled snapshot');
    assert.ok(other, 'claims of different names must not block each other');
    await first.release();
    await other.release();
    const again = await Lock.tryClaim(backend, 'schedule-ws1', 'scheduled snapshot');
    assert.ok(again, 'a released claim can be taken again');
    await again.release();
    // A claim left by a process that died is stale: taken over, and reported.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => resolve(child.pid as number));
    });
    await backend.save(
      'locks/claim-schedule-ws1',
      Buffer.from(
        JSON.stringify({
          host: os.hostname(),
          pid: dead,
          time: new Date().toISOString(),
          exclusive: false,
          purpose: 'x',
        }),
      ),
    );
    const stale: number[] = [];
    const taken = await Lock.tryClaim(backend, 'schedule-ws1', 'scheduled snapshot', {
      onStale: (info) => stale.push(info.pid),
    });
    assert.ok(taken);
    assert.deepEqual(stale, [dead]);
    await taken.release();
  });

  it('stale means: not refreshed for STALE_MS, or a dead pid on this host (a live pid elsewhere is trusted until it expires)', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    const at = (msAgo: number, host = os.hostname(), pid = process.pid): LockInfo => ({
      host,
      pid,
      time: new Date(now - msAgo).toISOString(),
      exclusive: false,
      purpose: 'x',
    });
    assert.equal(isStale(at(0), now), false);
    assert.equal(isStale(at(STALE_MS - 1), now), false);
    assert.equal(isStale(at(STALE_MS + 1), now), true);
    assert.equal(
      isStale(at(0, 'another-host', 999_999_999), now),
      false,
      'a lock of another host cannot be judged by pid',
    );
    assert.equal(isStale(at(0, os.hostname(), 999_999_999), now), true);
    assert.ok(REFRESH_MS * 2 < STALE_MS, 'a held lock is refreshed well before it could look stale');
  });
});
