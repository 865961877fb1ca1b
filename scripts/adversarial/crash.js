// Crash: snapshot, restore, export, mirror and forget --prune are killed with SIGKILL at a random moment
// (seeded: half at a moment within the time the same command took last, half just after its first write). After
// each kill: every snapshot that finished before is still listed (forget may only drop what its policy lets
// go) and restores byte for byte, a snapshot the killed run committed holds exactly the workspace it saw, the
// same command run again succeeds, leaves no temp file in the user's folder (target, mirror, archive folder)
// and its result is exact, and verify --read-data is clean.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const MiB = 1024 * 1024;
const KEEP = 3;

async function run({ loop, rand, rounds, scratch }) {
  const ws = path.join(scratch, 'ws');
  const store = path.join(scratch, 'store');
  const target = path.join(scratch, 'target');
  const mirror = path.join(scratch, 'mirror');
  const archives = path.join(scratch, 'archives');
  fs.mkdirSync(archives);
  h.makeWorkspace(ws, rand, { small: 30, big: [3 * MiB, 4 * MiB] });
  /** Snapshots that finished (or that a killed run committed), newest last, with the workspace they hold. */
  const committed = new Map();
  const first = await h.cli(['snapshot', ws, '--repo', store, '--json']);
  if (!loop.expect(h.successProblem(first), 'setup: a first snapshot', first)) return;
  committed.set(JSON.parse(first.stdout).id, h.digestTree(ws));

  const estimates = { snapshot: 400, restore: 400, export: 900, mirror: 400, prune: 400 };
  const kills = {};
  let leftTemps = 0;
  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    const op = rand.pick(['snapshot', 'snapshot', 'restore', 'export', 'mirror', 'prune']);
    let wsDigest;
    if (op === 'snapshot') {
      h.mutateWorkspace(ws, rand, { bigSize: rand.int(2, 5) * MiB });
      wsDigest = h.digestTree(ws);
    }
    const source = rand.pick([...committed.keys()]);
    const archive = path.join(archives, 'x.tar.gz');
    const args = {
      snapshot: ['snapshot', ws, '--repo', store, '--json'],
      restore: ['restore', source, '--repo', store, '--target', target, '--delete'],
      export: ['export', source, archive, '--repo', store, '--force'],
      mirror: ['mirror', source, mirror, '--repo', store],
      prune: ['forget', '--keep-last', String(KEEP), '--prune', '--repo', store],
    }[op];
    // Half the kills at a moment within the time the command took last, half a few milliseconds after its
    // first write (packs, files, the archive's temp file), where an interruption does the most harm.
    const anchored = rand.chance(0.5);
    const killAt = anchored ? rand.int(0, 40) : rand.int(20, Math.round(estimates[op] * 1.2) + 20);
    const watchDir = {
      snapshot: path.join(store, 'data'),
      prune: path.join(store, 'data'),
      restore: target,
      mirror,
      export: archives,
    }[op];
    fs.mkdirSync(watchDir, { recursive: true });
    const killed = await h.cli(args, {
      killAfterMs: killAt,
      killWatch: anchored ? { dir: watchDir, recursive: op !== 'export' } : undefined,
    });
    const tally = (kills[op] ??= { mid: 0, done: 0 });
    if (killed.killed) tally.mid++;
    else {
      tally.done++;
      loop.expect(h.successProblem(killed), `${op} (finished before its kill)`, killed);
      if (op === 'snapshot' && killed.code === 0) committed.set(JSON.parse(killed.stdout).id, wsDigest);
    }
    const repro = `${killed.cmd}   # SIGKILL ${killAt} ms after ${anchored ? `its first write in ${watchDir}` : 'starting'}`;

    // What the store lists now: nothing that finished is lost; a committed record holds what the run saw.
    const list = await h.cli(['list', '--repo', store, '--json']);
    if (!loop.expect(h.successProblem(list), `after a killed ${op}: list works`, list)) continue;
    const listed = JSON.parse(list.stdout).map((s) => s.id);
    const newest = [...committed.keys()].slice(-KEEP);
    for (const id of committed.keys()) {
      if (listed.includes(id)) continue;
      const mayGo = op === 'prune' && !newest.includes(id);
      loop.check(
        mayGo,
        `after a killed ${op}: snapshot ${id.slice(0, 8)} that finished is still there`,
        'it is gone from the list',
        repro,
      );
      committed.delete(id);
    }
    for (const id of listed.filter((i) => !committed.has(i))) {
      if (
        loop.check(
          op === 'snapshot',
          `after a killed ${op}: no snapshot appears from nowhere`,
          `new snapshot ${id.slice(0, 8)}`,
          repro,
        )
      )
        committed.set(id, wsDigest);
    }

    // The same command again: it succeeds, cleans what the killed run left, and its result is exact.
    const userFolder = { restore: target, export: archives, mirror }[op];
    if (userFolder && killed.killed && h.findTemps(userFolder).length > 0) leftTemps++;
    const again = await h.cli(args);
    estimates[op] = Math.round((estimates[op] + again.ms) / 2);
    if (!loop.expect(h.successProblem(again), `the ${op} run again after its kill succeeds`, again)) continue;
    if (op === 'snapshot') {
      const result = JSON.parse(again.stdout);
      if (result.created) committed.set(result.id, wsDigest);
      else
        loop.expect(
          h.digestDiff(committed.get(result.id) ?? new Map([['?', 'not committed']]), wsDigest),
          'a snapshot with nothing changed names one that holds the workspace',
          again,
        );
    } else if (op === 'prune') {
      const kept = JSON.parse((await h.cli(['list', '--repo', store, '--json'])).stdout).map((s) => s.id);
      for (const id of [...committed.keys()]) if (!kept.includes(id)) committed.delete(id);
      loop.check(
        newest.every((id) => kept.includes(id)),
        `forget --keep-last ${KEEP} keeps the ${KEEP} newest`,
        newest.filter((id) => !kept.includes(id)).join(', '),
        again,
      );
    } else {
      const where = op === 'export' ? archives : op === 'mirror' ? mirror : target;
      const temps = h.findTemps(where);
      loop.check(
        temps.length === 0,
        `the ${op} rerun leaves no temp file in the user's folder`,
        temps.join(', '),
        again,
      );
      loop.expect(
        resultProblem(op, { target, mirror, archive, scratch }, committed.get(source)),
        `the ${op} rerun is byte-identical to snapshot ${source.slice(0, 8)}`,
        again,
      );
    }
    const verify = await h.cli(['verify', '--read-data', '--repo', store]);
    loop.expect(h.successProblem(verify), `after a killed ${op}: verify --read-data is clean`, verify);
    await restoresExactly(loop, rand.pick([...committed.keys()]), store, committed, path.join(scratch, 'check'));
  }
  // In the end, every snapshot that finished restores.
  for (const id of committed.keys()) await restoresExactly(loop, id, store, committed, path.join(scratch, 'check'));
  const prune = await h.cli(['prune', '--repo', store]);
  loop.expect(h.successProblem(prune), 'a last prune clears what the kills left', prune);
  loop.note(
    `kills: ${Object.entries(kills)
      .map(([op, t]) => `${op} ${t.mid} mid-run/${t.mid + t.done}`)
      .join(', ')}; ${leftTemps} killed runs left temp files in a user's folder, each removed by the rerun`,
  );
}

async function restoresExactly(loop, id, store, committed, dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  const r = await h.cli(['restore', id, '--repo', store, '--target', dir]);
  if (loop.expect(h.successProblem(r), `snapshot ${id.slice(0, 8)} restores`, r))
    loop.expect(
      h.digestDiff(h.digestTree(dir), committed.get(id)),
      `snapshot ${id.slice(0, 8)} restores byte for byte`,
      r,
    );
  fs.rmSync(dir, { recursive: true, force: true });
}

function resultProblem(op, { target, mirror, archive, scratch }, expected) {
  if (op === 'restore') return h.digestDiff(h.digestTree(target), expected);
  if (op === 'mirror') return h.digestDiff(h.mirrorTree(mirror), expected);
  const x = path.join(scratch, 'extracted');
  fs.rmSync(x, { recursive: true, force: true });
  fs.mkdirSync(x);
  const tar = spawnSync('tar', ['-xzf', archive, '-C', x], { encoding: 'utf8' });
  const files = (d) => new Map([...d].filter(([, v]) => !v.startsWith('d')));
  const problem = tar.status !== 0 ? `tar -xzf: ${tar.stderr}` : h.digestDiff(files(h.digestTree(x)), files(expected));
  fs.rmSync(x, { recursive: true, force: true });
  return problem;
}

module.exports = { run, defaultRounds: 16 };
