// Bad input: what a hurried or unlucky user types. Each case expects an exit code (1 error, 2 usage) and one
// sentence of ours, and where it says so that nothing was created (a mistyped store is never made). Then
// random argument lists built from commands, flags and awkward values (empty, "..", a file, a missing folder,
// the store itself, a 5,000-byte name, a leading dash, a newline): never a crash or a raw Node error, every
// failure a sentence. At the end the store still verifies and restores exactly.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { indexedEntries } = require('./forge');
const h = require('./harness');

const COMMANDS = [
  'snapshot',
  'list',
  'ls',
  'cat',
  'history',
  'diff',
  'restore',
  'verify',
  'prune',
  'export',
  'mirror',
  'copy',
  'tag',
  'find',
  'grep',
  'init',
  'status',
];
const FLAGS = [
  '--repo',
  '--target',
  '--path',
  '--to',
  '--label',
  '--workspace',
  '--since',
  '--keep-last',
  '--max-file-size',
  '--read-data-subset',
  '--password-file',
  '--exclude',
  '--json',
  '--dry-run',
  '--delete',
  '--force',
  '--read-data',
  '--recursive',
  '--pin',
  '--since-full',
  '--since-last',
  '--frobnicate',
  '-x',
  '--',
];

async function run({ loop, rand, scale, scratch }) {
  const S = path.join(scratch, 'store');
  const E = path.join(scratch, 'sealed');
  const ws = path.join(scratch, 'ws');
  const F = path.join(scratch, 'a-file.txt');
  const M = path.join(scratch, 'missing');
  const T = path.join(scratch, 'target');
  const wrongPass = path.join(scratch, 'wrong-pass');
  const PASS = { PROJECT_BACKUP_PASSWORD: 'correct horse' };
  h.makeWorkspace(ws, rand, { small: 8 });
  fs.writeFileSync(F, 'not a folder\n');
  fs.writeFileSync(wrongPass, 'battery staple\n');
  const setup = [
    await h.cli(['snapshot', ws, '--repo', S]),
    await h.cli(['init', '--encrypt', '--repo', E], { env: PASS }),
    await h.cli(['snapshot', ws, '--repo', E], { env: PASS }),
  ];
  for (const r of setup) if (!loop.expect(h.successProblem(r), 'setup', r)) return;
  const wsDigest = h.digestTree(ws);
  // Index files are compared by what they say: a prune (a valid command among the random ones) merges them.
  const storeDigest = () => h.digestTree(S, { skip: (rel) => /^(locks|meta|cache|index)(\/|$)/.test(rel) });
  const before = storeDigest();
  const indexedBefore = indexedEntries(S);
  const long = path.join(scratch, 'x'.repeat(5000));

  // [args, expected exit codes, what the sentence must mention, env, paths that must not exist afterwards]
  const cases = [
    [['snapshot', M, '--repo', S], [1], /does not exist|not found|no such/i],
    [['snapshot', F, '--repo', S], [1], /not a folder|directory/i],
    [
      ['snapshot', M, '--repo', path.join(scratch, 'new-store')],
      [1],
      /does not exist|not found/i,
      {},
      [path.join(scratch, 'new-store')],
    ],
    [['snapshot', ws, '--repo', S, '--path', '../outside'], [1, 2], /outside|workspace/i],
    [['snapshot', ws, '--repo', S, '--path', ''], [2], /empty/i],
    [['snapshot', ws, '--repo', S, '--max-file-size', 'abc'], [2], /size/i],
    [['snapshot', ws, '--repo', S, '--trigger', 'nope'], [2], /trigger/i],
    [['restore', 'latest', '--repo', S, '--target', S], [1], /store/i],
    [['restore', 'latest', '--repo', S, '--target', path.join(S, 'data')], [1], /store/i],
    [['restore', 'latest', '--repo', S, '--target', F], [1], /file|folder|directory/i],
    [['restore', 'latest', '--repo', S, '--target', path.join(F, 'sub')], [1], /file|folder|directory/i],
    [['restore', 'latest', '--repo', M, '--target', T], [1], /store|does not exist/i, {}, [M]],
    [['restore', 'latest', '--repo', F, '--target', T], [1], /store|folder|file/i],
    [['restore', 'latest', '--repo', ws, '--target', T], [1], /store/i, {}, [path.join(ws, 'config')]],
    [['restore', 'latest', '--repo', S], [2], /target/i],
    [['restore', 'latest', '--repo', S, '--target', ''], [2], /empty/i],
    [['restore', '--repo', S, '--target', T], [2], /argument/i],
    [['restore', 'deadbeef', '--repo', S, '--target', T], [1], /snapshot/i, {}, [T]],
    [['restore', 'latest', '--repo', S, '--target', T, '--path', '../../etc/passwd'], [1, 2], /path|not (found|in)/i],
    [['restore', 'latest', '--repo', S, '--target', T, '--path', ''], [2], /empty/i],
    [['list', '--repo', ''], [2], /empty/i],
    [['list', '--repo', S, '--frobnicate'], [2], /frobnicate|unknown/i],
    [['list', '--repo', S, 'extra'], [2], /argument/i],
    [['list', '--repo', long], [1], /store|long|does not exist/i],
    [['list', '--repo', path.join(F, 'sub')], [1], /store|folder|file/i],
    [['frobnicate'], [2], /unknown command/i],
    [['list', '--repo', E], [1], /encrypted|passphrase/i],
    [['list', '--repo', E], [1], /passphrase/i, { PROJECT_BACKUP_PASSWORD: 'wrong' }],
    [['list', '--repo', E, '--password-file', wrongPass], [1], /passphrase/i],
    [['list', '--repo', E, '--password-file', M], [1], /does not exist|passphrase file/i],
    [['restore', 'latest', '--repo', E, '--target', T], [1], /passphrase/i, { PROJECT_BACKUP_PASSWORD: 'wrong' }, [T]],
    [['passwd', '--repo', S], [1], /not encrypted|plain/i],
    [['passwd', '--repo', M], [1], /store|does not exist/i, {}, [M]],
    [['export', 'latest', path.join(scratch, 'out.txt'), '--repo', S], [2], /\.zip|\.tar\.gz/],
    [['export', 'latest', path.join(S, 'a.tar.gz'), '--repo', S], [1], /store/i, {}, [path.join(S, 'a.tar.gz')]],
    [
      ['export', 'latest', path.join(scratch, 'a.zip'), '--repo', S, '--since-full', '--since-last'],
      [2],
      /at most one/i,
    ],
    [
      ['export', 'latest', path.join(scratch, 'b.zip'), '--repo', S, '--since', 'nothing'],
      [1],
      /snapshot/i,
      {},
      [path.join(scratch, 'b.zip')],
    ],
    [['export', 'latest', path.join(F, 'c.zip'), '--repo', S], [1], /file|folder|directory/i],
    [['mirror', 'latest', S, '--repo', S], [1], /store/i],
    [['mirror', 'latest', path.join(S, 'm'), '--repo', S], [1], /store/i, {}, [path.join(S, 'm')]],
    [['mirror', 'latest', ws, '--repo', S], [1], /mirror|empty|workspace/i],
    [['mirror', 'latest', F, '--repo', S], [1], /file|folder|directory|mirror/i],
    [['copy', '--repo', S, '--to', F], [1], /file|folder|directory/i],
    [['copy', '--repo', S, '--to', S], [1], /itself|same|store/i],
    [['copy', '--repo', S, '--to', ''], [2], /empty/i],
    [['copy', '--repo', S], [2], /--to/],
    [['status', '--repo', S, '--workspace', ws, '--to', ''], [2], /empty/i],
    [['history', '/etc/passwd', '--repo', S, '--workspace', ws], [1, 2], /workspace|outside/i],
    [['verify', '--repo', S, '--read-data-subset', '200'], [2], /percentage/i],
    [['verify', '--repo', S, '--read-data', '--read-data-subset', '5'], [2], /not both/i],
    [['forget', '--repo', S], [1, 2], /keep|policy/i],
    [['forget', '--repo', S, '--keep-last', '-1'], [2], /whole number|keep-last/i],
    [['forget', '--repo', S, '--keep-within', 'abc'], [2], /duration/i],
    [['tag', 'latest', '--repo', S], [1, 2], /label|pin/i],
    [['tag', 'latest', '--repo', S, '--pin', '--unpin'], [1, 2], /pin/i],
    [['cat', 'latest', 'no/such/file', '--repo', S], [1], /no\/such\/file|not in|does not/i],
    [['ls', 'latest', 'no/such', '--repo', S], [1], /no\/such|not in|does not/i],
    [['diff', 'latest', 'nope', '--repo', S], [1], /snapshot/i],
    [['init', '--repo', F], [1], /file|folder|directory|store/i],
    [['list', '--repo', 'sftp://nobody@127.0.0.1:1/x'], [1], /reach|connect|refused|127\.0\.0\.1/i],
  ];

  loop.rounds = 1;
  loop.round = 1;
  for (const [args, codes, about, env = {}, mustNotExist = []] of cases) {
    const r = await h.cli(args, { env, cwd: scratch, timeoutMs: 60_000 });
    loop.expect(
      h.sentenceProblem(r, { codes, about }),
      `bad input: ${args.slice(0, 2).join(' ') || '(no arguments)'}`,
      r,
    );
    for (const p of mustNotExist)
      loop.check(
        !fs.existsSync(p),
        `bad input leaves nothing behind: ${args.slice(0, 2).join(' ')}`,
        `${p} was created`,
        r,
      );
  }
  // No command at all: the usage text on stderr (it is the answer), exit 2.
  const bare = await h.cli([], { cwd: scratch });
  loop.check(
    bare.code === 2 && /^Usage: project-backup/m.test(bare.stderr) && !h.rawProblem(bare),
    'no command: the usage on stderr, exit 2',
    `exit ${bare.code}: ${h.oneLine(bare.stderr, 120)}`,
    bare,
  );
  loop.check(
    !fs.existsSync(T) || h.listFiles(T).length === 0,
    'failed restores wrote nothing into the target',
    h.listFiles(T).slice(0, 5).join(', '),
  );

  // The store as the workspace: refused, or snapshotted with the store left out (#11.1).
  const self = await h.cli(['snapshot', S, '--repo', S, '--json'], { cwd: scratch });
  if (self.code === 0) {
    const ls = await h.cli(['ls', 'latest', '--repo', S, '--recursive']);
    loop.check(
      !/\bconfig\b|\bdata\//.test(ls.stdout),
      'snapshot of the store into itself leaves the store out',
      h.oneLine(ls.stdout),
      self,
    );
  } else loop.expect(h.sentenceProblem(self, { about: /store/i }), 'snapshot of the store into itself', self);
  await intoTheStore(loop, scratch, S);
  await pathThroughLink(loop, scratch, S);

  // Random argument lists: never a crash, every failure a sentence of ours.
  const fuzzCwd = path.join(scratch, 'cwd');
  fs.mkdirSync(fuzzCwd, { recursive: true });
  const values = [
    '',
    ' ',
    '..',
    '.',
    S,
    ws,
    F,
    M,
    T,
    path.join(fuzzCwd, 'x.tar.gz'),
    path.join(fuzzCwd, 'y.zip'),
    'latest',
    'deadbeef',
    '-1',
    '0',
    '1e9',
    '50%',
    'abc',
    '--',
    '-',
    '--repo',
    'a\nb',
    'ǘñí',
    'x'.repeat(5000),
    '*',
    '**/*.txt',
    'src/f0.txt',
    '../../etc/passwd',
  ];
  const fuzzRounds = Math.max(1, Math.round(3 * scale));
  for (let round = 1; round <= fuzzRounds; round++) {
    loop.rounds++;
    loop.round = loop.rounds;
    for (let i = 0; i < 12; i++) {
      const args = [rand.pick(COMMANDS)];
      const n = rand.int(0, 5);
      for (let k = 0; k < n; k++) {
        if (rand.chance(0.6)) {
          const flag = rand.pick(FLAGS);
          args.push(flag);
          if (
            ![
              '--json',
              '--dry-run',
              '--delete',
              '--force',
              '--read-data',
              '--recursive',
              '--pin',
              '--since-full',
              '--since-last',
              '--',
            ].includes(flag)
          )
            args.push(rand.pick(values));
        } else args.push(rand.pick(values));
      }
      if (rand.chance(0.7) && !args.includes('--repo')) args.push('--repo', rand.pick([S, S, M, F, ws, '']));
      const r = await h.cli(args, { cwd: fuzzCwd, timeoutMs: 60_000 });
      const raw = h.rawProblem(r);
      let problem = raw ?? (![0, 1, 2, 3].includes(r.code) ? `exit ${r.code}` : undefined);
      if (!problem && (r.code === 1 || r.code === 2)) {
        const first = h.errorLines(r)[0] ?? '';
        if (!/^(project-backup|not (restored|mirrored|exported): |\d[\d,]* items? (was|were) not )/.test(first))
          problem = `failed without a sentence of ours: "${first.slice(0, 200)}"`;
      }
      loop.expect(problem, `random arguments: ${args[0]}`, r);
    }
  }

  // Nothing the store held was lost on the way.
  const after = storeDigest();
  for (const [rel, d] of before)
    loop.check(after.get(rel) === d, 'the store keeps every object it had', `${rel} changed or vanished`);
  const indexedAfter = indexedEntries(S);
  const unnamed = [...indexedBefore].filter((entry) => !indexedAfter.has(entry));
  loop.check(
    unnamed.length === 0 && indexedBefore.size > 0,
    'the index still names every object it named',
    `${unnamed.length} of ${indexedBefore.size} index entries gone, as "${unnamed[0]}"`,
  );
  const verify = await h.cli(['verify', '--read-data', '--repo', S]);
  loop.expect(h.successProblem(verify), 'the store verifies after the bad input', verify);
  const first = JSON.parse((await h.cli(['list', '--repo', S, '--json'])).stdout || '[]').find(
    (s) => s.workspace.path === ws,
  );
  const back = path.join(scratch, 'back');
  const restore = await h.cli(['restore', first?.id ?? 'latest', '--repo', S, '--target', back]);
  if (loop.expect(h.successProblem(restore), 'the first snapshot still restores', restore))
    loop.expect(h.digestDiff(h.digestTree(back), wsDigest), 'the first snapshot restores byte for byte', restore);
}

/**
 * The store reached through a symlink is the store all the same, and a snapshot holding files named like the
 * store's own (`store/config`) restored into the folder above the store writes none of them there (#11.1).
 */
async function intoTheStore(loop, scratch, S) {
  const link = path.join(scratch, 'link-to-store');
  fs.symlinkSync(S, link);
  const config = fs.readFileSync(path.join(S, 'config'));
  for (const args of [
    ['restore', 'latest', '--target', link],
    ['restore', 'latest', '--target', path.join(link, 'data')],
    ['mirror', 'latest', path.join(link, 'm')],
    ['export', 'latest', path.join(link, 'a.zip')],
  ]) {
    const r = await h.cli([...args, '--repo', S], { cwd: scratch });
    loop.expect(h.sentenceProblem(r, { about: /store/i }), `a target that is the store through a link: ${args[0]}`, r);
  }
  const evil = path.join(scratch, 'evil-ws');
  const name = path.basename(S);
  h.writeFiles(evil, {
    [`${name}/config`]: 'not a config\n',
    [`${name}/snapshots/${'ab'.repeat(16)}`]: '{}',
    'harmless.txt': 'fine\n',
  });
  const snap = await h.cli(['snapshot', evil, '--repo', S, '--json']);
  if (!loop.expect(h.successProblem(snap), 'setup: a workspace holding files named like the store', snap)) return;
  const above = await h.cli(['restore', JSON.parse(snap.stdout).id, '--repo', S, '--target', scratch]);
  loop.expect(
    h.sentenceProblem(above, { about: /store/i, lines: 3 }),
    'a restore above the store refuses what would land in it',
    above,
  );
  loop.check(
    fs.readFileSync(path.join(S, 'config')).equals(config),
    "a restore above the store leaves the store's config alone",
    'the config changed',
    above,
  );
  loop.check(
    !fs.existsSync(path.join(S, 'snapshots', 'ab'.repeat(16))),
    'a restore above the store writes no record into it',
    'a forged record appeared',
    above,
  );
  loop.check(
    fs.existsSync(path.join(scratch, 'harmless.txt')),
    'a restore above the store restores the rest',
    'harmless.txt is missing',
    above,
  );
  fs.rmSync(path.join(scratch, 'harmless.txt'), { force: true });
}

/** `snapshot --path link/passwd` with link -> /etc stores the link, never /etc/passwd (#11.2). */
async function pathThroughLink(loop, scratch, S) {
  const ws = path.join(scratch, 'link-ws');
  h.writeFiles(ws, { 'a.txt': 'a\n' });
  fs.symlinkSync('/etc', path.join(ws, 'etc-link'));
  const full = await h.cli(['snapshot', ws, '--repo', S]);
  if (!loop.expect(h.successProblem(full), 'setup: a workspace with a link to /etc', full)) return;
  fs.writeFileSync(path.join(ws, 'a.txt'), 'changed\n');
  const inc = await h.cli(['snapshot', ws, '--repo', S, '--path', 'etc-link/passwd', '--path', 'a.txt', '--json']);
  if (inc.code !== 0) return void loop.expect(h.sentenceProblem(inc), 'snapshot --path beneath a link to /etc', inc);
  const id = JSON.parse(inc.stdout).id;
  const cat = await h.cli(['cat', id, 'etc-link/passwd', '--repo', S]);
  loop.check(
    cat.code !== 0 && !/root:/.test(cat.stdout),
    'snapshot --path beneath a link never stores what lies beyond it',
    `cat printed ${h.oneLine(cat.stdout, 80)}`,
    inc,
  );
  const ls = await h.cli(['ls', id, '--json', '--repo', S]);
  const entry = ls.code === 0 ? JSON.parse(ls.stdout).find((e) => e.name === 'etc-link') : undefined;
  loop.check(
    entry?.type === 'symlink' && entry.target === '/etc',
    'the link is stored as a link',
    JSON.stringify(entry),
    ls,
  );
}

module.exports = { run, defaultRounds: 4 };
