// Many writers at once: three CLI writers snapshot their own workspaces into one store in a loop while prune
// repacks (forget ran before the round, so it has work) and readers restore, mirror and verify. No reader may
// fail or read wrong bytes, every snapshot that reported success is listed and restores byte for byte, and
// verify --read-data is clean after each round.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const WRITERS = 3;
const SNAPSHOTS_PER_WRITER = 3;

async function run({ loop, rand, rounds, scratch }) {
  const store = path.join(scratch, 'store');
  const spaces = [];
  /** Every snapshot that reported success, with the workspace it holds. */
  const reported = new Map();
  for (let w = 0; w < WRITERS; w++) {
    const ws = path.join(scratch, `ws-${w}`);
    h.makeWorkspace(ws, rand, { small: 15, big: [rand.int(300_000, 900_000)] });
    // Two snapshots each, so the first round's forget already leaves packs half used (prune repacks them).
    for (let i = 0; i < 2; i++) {
      if (i) h.mutateWorkspace(ws, rand, { bigSize: 200_000 });
      const r = await h.cli(['snapshot', ws, '--repo', store, '--json']);
      if (!loop.expect(h.successProblem(r), 'setup: two snapshots of each workspace', r)) return;
      reported.set(JSON.parse(r.stdout).id, h.digestTree(ws));
    }
    spaces.push(ws);
  }
  // A workspace no reader reads: snapshotted and forgotten during each round, so the second prune has work too.
  const churn = path.join(scratch, 'churn');
  h.makeWorkspace(churn, rand, { small: 5, big: [500_000] });
  let readerRuns = 0;
  let prunesThatWorked = 0;
  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    // Leave prune something to repack: everything but the newest of each workspace.
    const forget = await h.cli(['forget', '--keep-last', '1', '--repo', store]);
    loop.expect(h.successProblem(forget), 'forget before the round', forget);
    const listed = JSON.parse((await h.cli(['list', '--repo', store, '--json'])).stdout).map((s) => s.id);
    for (const id of [...reported.keys()]) if (!listed.includes(id)) reported.delete(id);
    const readable = [...reported.keys()];

    let writing = true;
    // Each process gets its own random stream, so the choices do not depend on which one finishes first.
    const writers = spaces.map((ws, w) => writer(loop, h.prng(rand.int(0, 2 ** 32 - 1)), ws, store, reported, w));
    const pruner = (async (own) => {
      for (let i = 0; i < 2; i++) {
        if (i === 1) {
          h.mutateWorkspace(churn, own, { bigSize: 500_000 });
          const snap = await h.cli(['snapshot', churn, '--repo', store]);
          const forgetChurn = await h.cli(['forget', '--keep-last', '1', '--workspace', churn, '--repo', store]);
          loop.expect(
            h.successProblem(snap) ?? h.successProblem(forgetChurn),
            'snapshot and forget of another workspace beside the round',
            snap.code ? snap : forgetChurn,
          );
        }
        const r = await h.cli(['prune', '--repo', store]);
        loop.expect(h.successProblem(r), 'prune beside writers and readers', r);
        if (/^Pruned: /m.test(r.stdout)) prunesThatWorked++;
      }
    })(h.prng(rand.int(0, 2 ** 32 - 1)));
    const reader = async (kind, n, own) => {
      // At least two reads each, then on while the writers write (at most 12).
      for (let i = 0; i < 12 && (i < 2 || writing); i++) {
        readerRuns++;
        const id = own.pick(readable);
        const dir = path.join(scratch, `read-${round}-${kind}-${n}`);
        const args =
          kind === 'restore'
            ? ['restore', id, '--target', `${dir}-${i}`]
            : kind === 'mirror'
              ? ['mirror', id, dir]
              : ['verify'];
        const r = await h.cli([...args, '--repo', store]);
        if (!loop.expect(h.successProblem(r), `${kind} beside writers and prune`, r)) continue;
        if (kind === 'restore')
          loop.expect(
            h.digestDiff(h.digestTree(`${dir}-${i}`), reported.get(id)),
            'a restore beside writers and prune is byte-identical',
            r,
          );
        if (kind === 'mirror')
          loop.expect(
            h.digestDiff(h.mirrorTree(dir), reported.get(id)),
            'a mirror beside writers and prune is byte-identical',
            r,
          );
        if (kind === 'restore') fs.rmSync(`${dir}-${i}`, { recursive: true, force: true });
      }
    };
    const readers = [
      ['restore', 1],
      ['restore', 2],
      ['mirror', 1],
      ['verify', 1],
    ].map(([kind, n]) => reader(kind, n, h.prng(rand.int(0, 2 ** 32 - 1))));
    await Promise.all(writers);
    writing = false;
    await Promise.all([pruner, ...readers]);

    const now = JSON.parse((await h.cli(['list', '--repo', store, '--json'])).stdout).map((s) => s.id);
    const lost = [...reported.keys()].filter((id) => !now.includes(id));
    loop.check(lost.length === 0, 'every snapshot that reported success is listed', lost.join(', '));
    const verify = await h.cli(['verify', '--read-data', '--repo', store]);
    loop.expect(h.successProblem(verify), 'verify --read-data after the round', verify);
    for (const id of [...reported.keys()].slice(-WRITERS * SNAPSHOTS_PER_WRITER)) {
      const dir = path.join(scratch, 'check');
      fs.rmSync(dir, { recursive: true, force: true });
      const r = await h.cli(['restore', id, '--repo', store, '--target', dir]);
      if (loop.expect(h.successProblem(r), 'a snapshot that reported success restores', r))
        loop.expect(
          h.digestDiff(h.digestTree(dir), reported.get(id)),
          'a snapshot that reported success restores byte for byte',
          r,
        );
    }
  }
  loop.note(
    `${rounds * WRITERS * SNAPSHOTS_PER_WRITER} snapshots by ${WRITERS} writers at once, ${rounds * 2} prunes (${prunesThatWorked} deleted or repacked packs), ${readerRuns} reader runs beside them`,
  );
}

/** One workspace's writer: change it, snapshot it, remember what the snapshot must hold. */
async function writer(loop, rand, ws, store, reported, w) {
  for (let i = 0; i < SNAPSHOTS_PER_WRITER; i++) {
    h.mutateWorkspace(ws, rand, { bigSize: rand.chance(0.5) ? rand.int(100_000, 900_000) : undefined });
    const digest = h.digestTree(ws);
    const r = await h.cli(['snapshot', ws, '--repo', store, '--json']);
    if (!loop.expect(h.successProblem(r), `writer ${w + 1}: a snapshot beside other writers and prune`, r)) continue;
    const result = JSON.parse(r.stdout);
    loop.check(
      result.created,
      `writer ${w + 1}: a changed workspace makes a new snapshot`,
      'nothing changed, it said',
      r,
    );
    reported.set(result.id, digest);
  }
}

module.exports = { run, defaultRounds: 3 };
