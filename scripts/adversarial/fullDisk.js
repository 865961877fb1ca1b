// Full disks: a small tmpfs as the store and another as the restore target, filled to a random level (or to
// the last byte) by a file beside them. A snapshot that does not fit fails with one sentence, leaves no pack,
// index, record or temp file behind, the store still verifies, and the same snapshot succeeds once space is
// freed. A restore, export or mirror into a full disk fails with a short summary, leaves no temp file and no
// torn file (everything it left is complete), and the rerun after freeing space is exact. Both mounts are
// undone in the end, also on failure (harness.cleanup).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const MiB = 1024 * 1024;
const FULL = /full|space/i;

function freeBytes(dir) {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/** Writes `filler` until `leave` bytes are free (0: until the disk refuses another byte). */
function fill(filler, leave) {
  const fd = fs.openSync(filler, 'w');
  try {
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    for (let size = chunk.length; size >= 512; size >>= 1) {
      for (;;) {
        const room = freeBytes(path.dirname(filler)) - leave;
        if (room < size) break;
        try {
          fs.writeSync(fd, chunk, 0, size);
        } catch (error) {
          if (error.code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function run({ loop, rand, rounds, scratch }) {
  const diskStore = path.join(scratch, 'disk-store');
  const diskTarget = path.join(scratch, 'disk-target');
  const why = h.mountTmpfs(diskStore, 16 * MiB) ?? h.mountTmpfs(diskTarget, 12 * MiB);
  if (why) {
    loop.skip('a full tmpfs as store and as target', why);
    return;
  }
  try {
    await storeRounds(loop, rand, rounds, scratch, diskStore);
    await targetRounds(loop, rand, rounds, scratch, diskTarget);
  } finally {
    h.unmount(diskTarget);
    h.unmount(diskStore);
  }
}

async function storeRounds(loop, rand, rounds, scratch, disk) {
  const ws = path.join(scratch, 'ws');
  const store = path.join(disk, 'store');
  const filler = path.join(disk, 'filler');
  h.makeWorkspace(ws, rand, { small: 10, big: [MiB] });
  const first = await h.cli(['snapshot', ws, '--repo', store]);
  if (!loop.expect(h.successProblem(first), 'setup: a first snapshot on the small disk', first)) return;
  let refused = 0;
  const objects = () =>
    ['data', 'index', 'snapshots']
      .flatMap((sub) => h.listFiles(path.join(store, sub)).map((f) => `${sub}/${f}`))
      .filter((f) => !f.endsWith('/'));
  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    h.mutateWorkspace(ws, rand, { bigSize: rand.int(1, 5) * MiB + rand.int(0, MiB) });
    const exact = rand.chance(0.3);
    fill(filler, exact ? 0 : rand.int(0, Math.max(0, freeBytes(disk) - 64 * 1024)));
    const before = objects();
    const snap = await h.cli(['snapshot', ws, '--repo', store]);
    const failed = snap.code !== 0;
    const label = `store disk ${exact ? 'full to the last byte' : `with ${Math.round(freeBytes(disk) / 1024)} KiB free`}`;
    if (failed) {
      refused++;
      loop.expect(h.sentenceProblem(snap, { about: FULL }), `${label}: the snapshot fails with one sentence`, snap);
      const after = objects();
      const left = after.filter((f) => !before.includes(f));
      loop.check(
        left.length === 0,
        `${label}: the failed snapshot leaves no pack, index or record`,
        left.join(', '),
        snap,
      );
      loop.check(
        before.every((f) => after.includes(f)),
        `${label}: nothing the store held is gone`,
        before.filter((f) => !after.includes(f)).join(', '),
        snap,
      );
    } else loop.expect(h.successProblem(snap), `${label}: a snapshot that fits`, snap);
    const temps = h.findTemps(store);
    loop.check(temps.length === 0, `${label}: no temp file left in the store`, temps.join(', '), snap);
    const verify = await h.cli(['verify', '--read-data', '--repo', store]);
    loop.expect(h.successProblem(verify), `${label}: the store verifies on the full disk`, verify);
    const list = await h.cli(['list', '--repo', store]);
    loop.expect(h.successProblem(list), `${label}: list works on the full disk`, list);

    fs.rmSync(filler);
    if (failed) {
      const again = await h.cli(['snapshot', ws, '--repo', store]);
      loop.expect(h.successProblem(again), 'after freeing space, the same snapshot succeeds', again);
    }
    const target = path.join(scratch, `restored-${round}`);
    const restore = await h.cli(['restore', 'latest', '--repo', store, '--target', target]);
    if (loop.expect(h.successProblem(restore), 'the latest snapshot restores', restore))
      loop.expect(
        h.digestDiff(h.digestTree(target), h.digestTree(ws)),
        'the latest snapshot restores byte for byte',
        restore,
      );
    fs.rmSync(target, { recursive: true, force: true });
    // Keep the small disk from filling with history: only the newest snapshot stays.
    const prune = await h.cli(['forget', '--keep-last', '1', '--prune', '--repo', store]);
    loop.expect(h.successProblem(prune), 'forget --prune frees the space', prune);
  }
  loop.note(`store disk: ${refused} of ${rounds} snapshots did not fit and were refused, the others fitted`);
}

async function targetRounds(loop, rand, rounds, scratch, disk) {
  const ws = path.join(scratch, 'ws-big');
  const store = path.join(scratch, 'store-big');
  h.makeWorkspace(ws, rand, { small: 30, big: [MiB, MiB, MiB, MiB, MiB, MiB] });
  const versions = [];
  for (let v = 0; v < 2; v++) {
    // The second version rewrites three of the six big files (and some small ones).
    if (v) for (let i = 0; i < 3; i++) h.mutateWorkspace(ws, rand, { bigSize: MiB });
    const snap = await h.cli(['snapshot', ws, '--repo', store, '--json']);
    if (!loop.expect(h.successProblem(snap), 'setup: a snapshot of 6 MiB', snap)) return;
    versions.push({ id: JSON.parse(snap.stdout).id, digest: h.digestTree(ws) });
  }
  const [older, newer] = versions;
  const filler = path.join(disk, 'filler');
  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    const kind = rand.pick(['restore', 'export', 'mirror']);
    const out = path.join(disk, kind === 'export' ? 'a.tar.gz' : kind);
    const args =
      kind === 'restore'
        ? ['restore', newer.id, '--target', out]
        : kind === 'export'
          ? ['export', newer.id, out, '--force']
          : ['mirror', newer.id, out];
    // Over an older restore or mirror that fills most of the disk, or into an empty folder.
    const over = kind !== 'export' && rand.chance(0.5);
    if (over) {
      const first = await h.cli([...args.slice(0, 1), older.id, ...args.slice(2), '--repo', store]);
      if (!loop.expect(h.successProblem(first), `${kind} of the older snapshot while the disk has room`, first))
        continue;
    }
    const exact = rand.chance(0.3);
    // Never room for the whole snapshot (6 MiB), nor for one of the files that changed (1 MiB each).
    fill(filler, exact ? 0 : rand.int(0, over ? 900 * 1024 : 5.5 * MiB));
    const label = `${kind}${over ? ' over an older one' : ''} into a disk ${exact ? 'full to the last byte' : `with ${Math.round(freeBytes(disk) / 1024)} KiB free`}`;
    const r = await h.cli([...args, '--repo', store]);
    loop.expect(h.sentenceProblem(r, { about: FULL, lines: 8 }), `${label}: fails with a short summary`, r);
    const temps = h.findTemps(disk);
    loop.check(temps.length === 0, `${label}: no temp file left`, temps.join(', '), r);
    if (kind === 'export') loop.check(!fs.existsSync(out), `${label}: no partial archive`, out, r);
    else {
      // No torn files: whatever is there is complete, as in the newer snapshot or (over an older one) as before.
      const got = kind === 'mirror' ? h.mirrorTree(out) : h.digestTree(out);
      const torn = [...got].filter(([rel, d]) => newer.digest.get(rel) !== d && !(over && older.digest.get(rel) === d));
      loop.check(
        torn.length === 0,
        `${label}: every file it left is complete`,
        torn
          .map(([rel]) => rel)
          .slice(0, 5)
          .join(', '),
        r,
      );
    }
    fs.rmSync(filler);
    const again = await h.cli([...args, '--repo', store]);
    if (loop.expect(h.successProblem(again), `${kind}: the rerun after freeing space works`, again)) {
      if (kind === 'export') {
        const x = path.join(scratch, `extracted-${round}`);
        fs.mkdirSync(x);
        const tar = spawnSync('tar', ['-xzf', out, '-C', x], { encoding: 'utf8' });
        const files = (d) => new Map([...d].filter(([, v]) => !v.startsWith('d')));
        loop.expect(
          tar.status !== 0 ? `tar: ${tar.stderr}` : h.digestDiff(files(h.digestTree(x)), files(newer.digest)),
          `${kind}: the archive holds the snapshot`,
          again,
        );
        fs.rmSync(x, { recursive: true, force: true });
      } else {
        // A restore without --delete keeps files the older snapshot had and the newer one lacks.
        const got = kind === 'mirror' ? h.mirrorTree(out) : h.digestTree(out);
        const want =
          kind === 'restore' && over
            ? new Map([...older.digest].filter(([rel]) => !newer.digest.has(rel)).concat([...newer.digest]))
            : newer.digest;
        loop.expect(h.digestDiff(got, want), `${kind}: the rerun is byte-identical`, again);
      }
      loop.check(
        h.findTemps(disk).length === 0,
        `${kind}: no temp file after the rerun`,
        h.findTemps(disk).join(', '),
        again,
      );
    }
    for (const name of fs.readdirSync(disk)) fs.rmSync(path.join(disk, name), { recursive: true, force: true });
  }
}

module.exports = { run, defaultRounds: 5 };
