// Hostile and damaged stores. First the crafted catalog (hostileStores.js: "..", absolute and NUL names, links
// out of the target, special mode bits, 30,000-level chains, a tree cycle, absurd sizes, a deflate bomb, type
// confusion, an index past its pack, odd records and locks, hostile configs): verify, restore, ls, mirror,
// export and find never crash, answer with the expected exit code and sentences of ours, apply no setuid bit
// and write nothing outside their target. Then random damage to a real store (a flipped byte in the config, a
// record, an index file or a pack; a truncated, deleted or extended pack; an edited snapshot time): verify
// must find it, and a restore that exits 0 must be byte-identical to what was snapshotted.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const { CASES, CONFIGS } = require('./hostileStores');

async function run({ loop, rand, rounds, scratch }) {
  const template = path.join(scratch, 'empty-store');
  const init = await h.cli(['init', '--repo', template]);
  if (!loop.expect(h.successProblem(init), 'setup: init', init)) return;

  loop.round = 1;
  loop.rounds = 1;
  for (const [i, spec] of CASES.entries()) await crafted(loop, spec, path.join(scratch, `case-${i}`), template, rand);
  await configs(loop, path.join(scratch, 'configs'), template, rand);

  // Random damage to a real store.
  const base = path.join(scratch, 'base');
  const ws = path.join(scratch, 'ws');
  h.makeWorkspace(ws, rand, { small: 12, big: [1_500_000, 300_000] });
  const digests = new Map();
  for (let i = 0; i < 2; i++) {
    if (i) h.mutateWorkspace(ws, rand, { bigSize: 400_000 });
    const r = await h.cli(['snapshot', ws, '--repo', base, '--json']);
    if (!loop.expect(h.successProblem(r), 'setup: snapshot', r)) return;
    digests.set(JSON.parse(r.stdout).id, h.digestTree(ws));
  }
  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    await damaged(loop, rand, path.join(scratch, `damage-${round}`), base, digests, ws);
  }
}

/** Runs the commands a user would against one crafted store and checks each answer. */
async function crafted(loop, spec, dir, template, rand) {
  const store = path.join(dir, 'store');
  fs.cpSync(template, store, { recursive: true });
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  const escape = `/tmp/pb-adversarial-escape-${rand.hex(6)}`;
  const built = spec.build(store, { outside, escape, rand });
  const what = (cmd) => `${spec.name}: ${cmd}`;
  const target = path.join(dir, 'target');

  const verify = await h.cli(['verify', '--read-data', '--repo', store], { timeoutMs: 60_000 });
  loop.expect(
    h.rawProblem(verify) ??
      (built.verify.includes(verify.code)
        ? undefined
        : `exit ${verify.code}, expected ${built.verify.join(' or ')}: ${h.oneLine(verify.stdout + verify.stderr, 300)}`),
    what('verify --read-data'),
    verify,
  );

  if (built.before) {
    const first = await h.cli(['restore', built.before, '--repo', store, '--target', target], { timeoutMs: 60_000 });
    loop.expect(h.successProblem(first), what('restore of the first snapshot'), first);
  }
  const restore = await h.cli(['restore', built.snapshot, '--repo', store, '--target', target], { timeoutMs: 60_000 });
  const restoreProblem =
    restore.code === 0 && built.restore.includes(0)
      ? h.rawProblem(restore)
      : h.sentenceProblem(restore, { codes: built.restore, about: built.about, lines: built.lines ?? 6 });
  loop.expect(restoreProblem, what('restore'), restore);
  loop.expect(built.target(target), what('what the target holds'), restore);

  const ls = await h.cli(['ls', built.snapshot, '--recursive', '--repo', store], { timeoutMs: 60_000 });
  loop.expect(ls.code === 0 ? h.rawProblem(ls) : h.sentenceProblem(ls, { lines: 3 }), what('ls --recursive'), ls);
  const mirrorDir = path.join(dir, 'mirror');
  const mirror = await h.cli(['mirror', built.snapshot, mirrorDir, '--repo', store], { timeoutMs: 60_000 });
  loop.expect(
    mirror.code === 0 ? h.rawProblem(mirror) : h.sentenceProblem(mirror, { lines: built.lines ?? 6 }),
    what('mirror'),
    mirror,
  );
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  const exp = await h.cli(['export', built.snapshot, path.join(dir, 'out', 'a.tar.gz'), '--repo', store], {
    timeoutMs: 60_000,
  });
  loop.expect(
    exp.code === 0 ? h.rawProblem(exp) : h.sentenceProblem(exp, { lines: built.lines ?? 6 }),
    what('export'),
    exp,
  );
  const find = await h.cli(['find', '*', '--repo', store], { timeoutMs: 60_000 });
  loop.expect(find.code === 0 ? h.rawProblem(find) : h.sentenceProblem(find, { lines: 3 }), what('find'), find);
  const list = await h.cli(['list', '--repo', store], { timeoutMs: 60_000 });
  loop.expect(list.code === 0 ? h.rawProblem(list) : h.sentenceProblem(list, { lines: 3 }), what('list'), list);

  // Nothing outside the target, no special bits, no temp files of ours.
  loop.check(
    fs.readdirSync(outside).length === 0,
    what('nothing written through a link'),
    fs.readdirSync(outside).join(', '),
  );
  loop.check(
    !fs.existsSync(escape) && !fs.existsSync('/tmp/escaped.txt'),
    what('nothing written at an absolute path'),
    `${escape} or /tmp/escaped.txt exists`,
  );
  const beside = fs.readdirSync(dir).filter((n) => !['store', 'outside', 'target', 'mirror', 'out'].includes(n));
  loop.check(beside.length === 0, what('nothing written beside the target'), beside.join(', '));
  for (const where of [target, mirrorDir, path.join(dir, 'out')]) {
    const special = [...h.digestTree(where).entries()].filter(
      ([, d]) => d.startsWith('f:') && (parseInt(d.split(':')[1], 8) & 0o7000) !== 0,
    );
    loop.check(
      special.length === 0,
      what(`no setuid/setgid/sticky bit in ${path.basename(where)}`),
      special.map(([r, d]) => `${r} ${d.slice(0, 7)}`).join(', '),
    );
    const temps = h.findTemps(where);
    loop.check(temps.length === 0, what(`no temp file left in ${path.basename(where)}`), temps.join(', '));
  }
}

/** A hostile config: every command refuses with one sentence, or works. */
async function configs(loop, dir, template, rand) {
  const ws = path.join(dir, 'ws');
  h.makeWorkspace(ws, rand, { small: 4, big: [2_200_000] });
  for (const [i, [name, change, about]] of CONFIGS.entries()) {
    const store = path.join(dir, `store-${i}`);
    fs.cpSync(template, store, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8'));
    delete config.checksum;
    const changed = change(config);
    fs.writeFileSync(path.join(store, 'config'), typeof changed === 'string' ? changed : JSON.stringify(changed));
    const target = path.join(dir, `target-${i}`);
    for (const args of [['list'], ['verify'], ['snapshot', ws], ['restore', 'latest', '--target', target]]) {
      const r = await h.cli([...args, '--repo', store], {
        timeoutMs: 60_000,
        env: { PROJECT_BACKUP_PASSWORD: 'guess' },
      });
      loop.expect(
        r.code === 0
          ? h.rawProblem(r)
          : h.sentenceProblem(r, { codes: [1, 3], about: r.code === 1 ? (about ?? undefined) : undefined }),
        `config with ${name}: ${args[0]}`,
        r,
      );
      if (args[0] === 'restore' && r.code === 0)
        loop.expect(h.digestDiff(h.digestTree(target), h.digestTree(ws)), `config with ${name}: restore is exact`, r);
    }
  }
}

const DAMAGE = [
  'flip config',
  'flip record',
  'flip index',
  'flip pack',
  'truncate pack',
  'extend pack',
  'delete pack',
  'delete index',
  'edit record time',
  'empty record',
  'garbage cache',
];

/** One random damage to a copy of a real store; what verify and restore must say about it. */
async function damaged(loop, rand, dir, base, digests, ws) {
  const store = path.join(dir, 'store');
  fs.cpSync(base, store, { recursive: true });
  const files = (sub) =>
    fs.existsSync(path.join(store, sub))
      ? [...h.digestTree(path.join(store, sub)).entries()]
          .filter(([, d]) => d.startsWith('f:'))
          .map(([rel]) => path.join(store, sub, rel))
      : [];
  const kind = rand.pick(DAMAGE);
  const victim = {
    config: () => path.join(store, 'config'),
    record: () => rand.pick(files('snapshots')),
    index: () => rand.pick(files('index')),
    pack: () => rand.pick(files('data')),
    cache: () => rand.pick(files('cache')) ?? path.join(store, 'cache', 'stat-garbage'),
  }[kind.split(' ').pop() === 'time' ? 'record' : kind.split(' ').pop()]();
  const data = fs.existsSync(victim) ? fs.readFileSync(victim) : Buffer.alloc(0);
  let detail = `${kind} ${path.relative(store, victim)}`;
  if (kind.startsWith('flip')) {
    const at = rand.int(0, data.length - 1);
    data[at] ^= rand.int(1, 255);
    fs.writeFileSync(victim, data);
    detail += ` at byte ${at}`;
  } else if (kind === 'truncate pack') {
    const to = rand.int(0, data.length - 1);
    fs.writeFileSync(victim, data.subarray(0, to));
    detail += ` to ${to} bytes`;
  } else if (kind === 'extend pack') fs.appendFileSync(victim, rand.bytes(rand.int(1, 100)));
  else if (kind.startsWith('delete')) fs.rmSync(victim);
  else if (kind === 'edit record time')
    fs.writeFileSync(
      victim,
      data.toString('utf8').replace(/"time":"20(\d)/, (_, d) => `"time":"20${(Number(d) + 9) % 10}`),
    );
  else if (kind === 'empty record') fs.writeFileSync(victim, '');
  else if (kind === 'garbage cache') {
    fs.mkdirSync(path.dirname(victim), { recursive: true });
    fs.writeFileSync(victim, rand.bytes(200));
  }
  const what = (cmd) => `${kind}: ${cmd}`;
  const repro = `(store damaged by: ${detail})`;

  const verify = await h.cli(['verify', '--read-data', '--repo', store], { timeoutMs: 60_000 });
  const harmless = kind === 'garbage cache';
  const verifyOk = harmless
    ? verify.code === 0
    : verify.code === 3 || (verify.code === 1 && !h.sentenceProblem(verify));
  loop.check(
    !h.rawProblem(verify) && verifyOk,
    what(harmless ? 'verify --read-data stays clean' : 'verify --read-data finds the damage'),
    `${detail}: exit ${verify.code}: ${h.rawProblem(verify) ?? h.oneLine(verify.stdout + verify.stderr, 300)}`,
    `${verify.cmd}  ${repro}`,
  );

  for (const [id, digest] of digests) {
    const target = path.join(dir, `target-${id.slice(0, 8)}`);
    const r = await h.cli(['restore', id, '--repo', store, '--target', target], { timeoutMs: 60_000 });
    if (r.code === 0) {
      loop.expect(h.rawProblem(r), what('restore'), `${r.cmd}  ${repro}`);
      loop.expect(
        h.digestDiff(h.digestTree(target), digest),
        what('a restore that succeeds is byte-identical (no silent corruption)'),
        `${r.cmd}  ${repro}`,
      );
    } else
      loop.expect(
        h.sentenceProblem(r, { lines: 8 }),
        what('restore refuses with sentences of ours'),
        `${r.cmd}  ${repro}`,
      );
    const temps = h.findTemps(target);
    loop.check(temps.length === 0, what('no temp file left in the target'), temps.join(', '), `${r.cmd}  ${repro}`);
  }
  if (harmless) {
    const snap = await h.cli(['snapshot', ws, '--repo', store]);
    loop.expect(h.successProblem(snap), what('a snapshot after a damaged stat cache works'), `${snap.cmd}  ${repro}`);
  }
}

module.exports = { run, defaultRounds: 10 };
