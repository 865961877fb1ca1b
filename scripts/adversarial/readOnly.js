// Read-only stores: the same store through a read-only bind mount, and as user nobody who may read it but not
// write it. list, ls, cat, find, diff, restore, verify --read-data, export, mirror and copy work (byte-compared
// with the workspace as snapshotted) and say at most once that they read without a lock; snapshot, forget,
// prune, tag and a restore over the workspace refuse with one sentence and change nothing. Each round adds a
// snapshot through the writable path first, so readers must see the store as it is now. Run by a user who is
// not root (no mount, no other user), a copy without write bits stands in for both.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

async function run({ loop, rand, rounds, scratch }) {
  const ws = path.join(scratch, 'ws');
  const store = path.join(scratch, 'store');
  h.makeWorkspace(ws, rand, { small: 12, big: [1_200_000] });
  const digests = new Map();
  const snapshot = async () => {
    const r = await h.cli(['snapshot', ws, '--repo', store, '--json']);
    if (!loop.expect(h.successProblem(r), 'setup: snapshot through the writable path', r)) return false;
    digests.set(JSON.parse(r.stdout).id, h.digestTree(ws));
    return true;
  };
  if (!(await snapshot())) return;

  const ro = path.join(scratch, 'ro');
  const whyNoMount = h.bindReadOnly(store, ro);
  if (whyNoMount) loop.skip('read-only bind mount', whyNoMount);
  const nobody = h.asNobody();
  if (nobody.why) loop.skip('a user who may only read (nobody)', nobody.why);
  // Not root: permission bits hold for this user, so a copy without write bits is a store it may only read.
  const selfReadOnly = nobody.why && process.getuid?.() !== 0;

  for (let round = 1; round <= rounds; round++) {
    loop.round = ++loop.rounds;
    h.mutateWorkspace(ws, rand, { bigSize: rand.int(100_000, 1_500_000) });
    if (!(await snapshot())) return;
    if (!whyNoMount)
      await readers(loop, rand, {
        repo: ro,
        dir: path.join(scratch, `mount-${round}`),
        ws,
        digests,
        label: 'read-only mount',
        prefix: [],
      });
    if (!nobody.why) {
      // A copy owned by root, readable by all: nobody may read every file and folder but write none.
      const copy = path.join(scratch, `readable-${round}`);
      fs.cpSync(store, copy, { recursive: true });
      spawnSync('chmod', ['-R', 'a+rX,go-w', copy]);
      const dir = path.join(scratch, `nobody-${round}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.chownSync(dir, 65534, 65534);
      await readers(loop, rand, { repo: copy, dir, ws, digests, label: 'as nobody', prefix: nobody.prefix });
    }
    if (selfReadOnly) {
      const copy = path.join(scratch, `no-write-bits-${round}`);
      fs.cpSync(store, copy, { recursive: true });
      spawnSync('chmod', ['-R', 'a-w', copy]);
      try {
        await readers(loop, rand, {
          repo: copy,
          dir: path.join(scratch, `self-${round}`),
          ws,
          digests,
          label: 'without write bits',
          prefix: [],
        });
      } finally {
        spawnSync('chmod', ['-R', 'u+w', copy]);
      }
    }
  }
  if (!whyNoMount) h.unmount(ro);
}

/** Every reading command works against `repo`, every writing one refuses; `dir` is where the readers write. */
async function readers(loop, rand, { repo, dir, ws, digests, label, prefix }) {
  const ids = [...digests.keys()];
  const older = rand.pick(ids.slice(0, -1).length ? ids.slice(0, -1) : ids);
  const newest = ids[ids.length - 1];
  const run = (args, options = {}) => h.cli([...args, '--repo', repo], { prefix, timeoutMs: 60_000, ...options });
  const at = (name) => path.join(dir, name);
  const storeBefore = h.digestTree(repo);
  const what = (cmd) => `${label}: ${cmd}`;
  /** Works, with at most the one "reading without a lock" notice (and export's "not recorded" one). */
  const works = (r, cmd) => {
    const notices = r.stderr.split('\n').filter((l) => /reading without a lock/.test(l)).length;
    return loop.expect(
      h.successProblem(r) ?? (notices > 1 ? `said ${notices} times that it reads without a lock` : undefined),
      what(cmd),
      r,
    );
  };

  for (const cmd of [
    ['list'],
    ['ls', newest, '--recursive'],
    ['find', '*.txt'],
    ['diff', older, newest],
    ['verify', '--read-data'],
  ])
    works(await run(cmd), cmd[0]);
  const text = [...digests.get(older).entries()].find(([rel, d]) => d.startsWith('f:') && rel.endsWith('.txt'));
  if (text) {
    const cat = await run(['cat', older, text[0]]);
    if (works(cat, 'cat'))
      loop.check(
        text[1].endsWith(require('node:crypto').createHash('sha256').update(cat.stdout).digest('hex')),
        what('cat prints the file as snapshotted'),
        text[0],
        cat,
      );
  }
  const restore = await run(['restore', older, '--target', at('restored')]);
  if (works(restore, 'restore'))
    loop.expect(
      h.digestDiff(h.digestTree(at('restored')), digests.get(older)),
      what('restore is byte-identical'),
      restore,
    );
  const mirror = await run(['mirror', newest, at('mirror')]);
  if (works(mirror, 'mirror'))
    loop.expect(
      h.digestDiff(h.mirrorTree(at('mirror')), digests.get(newest)),
      what('mirror is byte-identical'),
      mirror,
    );
  const archive = at('a.tar.gz');
  const exp = await run(['export', newest, archive]);
  if (works(exp, 'export')) {
    const x = at('extracted');
    fs.mkdirSync(x);
    const tar = spawnSync('tar', ['-xzf', archive, '-C', x], { encoding: 'utf8' });
    const filesOnly = (d) => new Map([...d].filter(([, v]) => !v.startsWith('d')));
    loop.expect(
      tar.status !== 0
        ? `tar -xzf failed: ${tar.stderr}`
        : h.digestDiff(filesOnly(h.digestTree(x)), filesOnly(digests.get(newest))),
      what('the exported archive holds the snapshot'),
      exp,
    );
  }
  const copy = await run(['copy', '--to', at('copy')]);
  if (works(copy, 'copy')) {
    const verify = await h.cli(['verify', '--repo', at('copy')], { prefix });
    loop.expect(h.successProblem(verify), what('the copy verifies'), verify);
  }

  // Writes refuse with one sentence.
  const refuse = /read-only|cannot be written|permission denied|not permitted/i;
  for (const cmd of [
    ['snapshot', ws],
    ['forget', '--keep-last', '1'],
    ['prune'],
    ['tag', newest, '--label', 'x'],
    ['tag', newest, '--pin'],
  ]) {
    const r = await run(cmd);
    loop.expect(h.sentenceProblem(r, { about: refuse }), what(`${cmd[0]} refuses`), r);
  }
  // Over the workspace: the undo snapshot cannot be written, so nothing may change there.
  const wsBefore = h.digestTree(ws);
  const over = await run(['restore', older, '--target', ws]);
  loop.expect(
    h.sentenceProblem(over, { about: refuse }),
    what('restore over the workspace refuses (no undo snapshot possible)'),
    over,
  );
  loop.expect(h.digestDiff(h.digestTree(ws), wsBefore), what('the workspace is unchanged'), over);
  loop.expect(h.digestDiff(h.digestTree(repo), storeBefore), what('the store is unchanged'));
  const temps = h.findTemps(dir);
  loop.check(temps.length === 0, what('no temp files left'), temps.join(', '));
}

module.exports = { run, defaultRounds: 2 };
