// What every adversarial loop shares: a seeded PRNG, the built CLI run as a real process (killed, timed out,
// run as another user), the checks of its answers (an exit code, one sentence of ours on stderr, never a raw
// Node error, a stack or a crash), tree digests to byte-compare a restore with its source, and the mounts and
// processes the loops start, which are always undone (cleanup(), also on SIGINT).
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

// ---- seeded randomness --------------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** Incompressible bytes, reproducible from the seed (AES-CTR over zeros: fast for megabytes). */
    bytes: (n) => {
      const key = Buffer.alloc(16);
      key.writeUInt32LE(int(0, 0xffffffff), 0);
      key.writeUInt32LE(int(0, 0xffffffff), 4);
      const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
      return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
    },
    /** Text that compresses like source code. */
    text: (n) => {
      const words = [
        'const',
        'value',
        'return',
        'function',
        'backup',
        'store',
        '=',
        '{',
        '}',
        ';',
        '\n',
        'if',
        'else',
        '42',
        'name',
      ];
      let out = '';
      while (out.length < n) out += words[int(0, words.length - 1)] + ' ';
      return out.slice(0, n);
    },
    hex: (bytes) => {
      let out = '';
      for (let i = 0; i < bytes; i++) out += int(0, 255).toString(16).padStart(2, '0');
      return out;
    },
  };
}

// ---- running the built CLI ------------------------------------------------------------------------------------

const children = new Set();

/** A command line a human can paste (single-quoted where needed), with the env it needs. */
function commandLine(args, { env = {}, prefix = [] } = {}) {
  const q = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`);
  const envText = Object.entries(env)
    .map(([k, v]) => `${k}=${q(v)} `)
    .join('');
  return `${envText}${[...prefix, 'node', path.relative(process.cwd(), CLI) || CLI, ...args].map(q).join(' ')}`;
}

/**
 * Runs dist/cli.js. `killAfterMs`: SIGKILL that long after spawning (unless it ended first); with `killWatch`
 * ({dir, recursive}) that long after the first change in `dir` instead, so the kill lands while the run writes.
 * `timeoutMs`: a run still going then is killed and reported as hung. `prefix`: e.g. setpriv to run as another user.
 */
function cli(args, { env = {}, prefix = [], killAfterMs, killWatch, timeoutMs = 120_000, cwd = ROOT } = {}) {
  return new Promise((resolve) => {
    const fullEnv = { ...process.env };
    for (const key of Object.keys(fullEnv)) if (key.startsWith('PROJECT_BACKUP_')) delete fullEnv[key];
    Object.assign(fullEnv, env);
    const argv = [...prefix, process.execPath, CLI, ...args];
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let killed = false;
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = () => ((killed = true), child.kill('SIGKILL'));
    let killer;
    let watcher;
    if (killAfterMs !== undefined && killWatch) {
      watcher = fs.watch(killWatch.dir, { recursive: killWatch.recursive === true }, () => {
        watcher?.close();
        watcher = undefined;
        killer = setTimeout(kill, killAfterMs);
      });
    } else if (killAfterMs !== undefined) killer = setTimeout(kill, killAfterMs);
    const limit = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs);
    child.on('close', (code, signal) => {
      watcher?.close();
      clearTimeout(killer);
      clearTimeout(limit);
      children.delete(child);
      resolve({
        args,
        code,
        signal,
        stdout,
        stderr,
        ms: Math.round(performance.now() - started),
        killed: killed && signal === 'SIGKILL',
        timedOut,
        cmd: commandLine(args, { env, prefix }),
      });
    });
  });
}

// ---- judging an answer ------------------------------------------------------------------------------------------

/** Text that only a crash, a raw Node error or a stack trace prints; never part of a sentence of ours. */
const RAW = [
  [/^\s+at\s+\S/m, 'a stack frame'],
  [/node:internal|\(node:\d+\)/, 'a Node internal'],
  [/FATAL ERROR|JavaScript heap|Aborted|core dumped|Segmentation fault/i, 'a crash'],
  [/unexpected error/i, '"unexpected error" (an error not mapped to a sentence)'],
  [/\b(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError)\b/, 'a JavaScript error'],
  [/\bERR_[A-Z_]{3,}\b/, 'a Node error code'],
  [/^(Uncaught )?Error\b/m, 'a raw Error'],
  [/\bE[A-Z]{2,}: [a-z]/, 'a raw errno message (e.g. "ENOENT: no such file")'],
  [/\[object Object\]|\bundefined\b|\bNaN\b/, 'a formatting slip'],
];

/** Lines a command may print on stderr beside its answer: notices, not errors. */
const NOTICE = [
  /^The store is read-only: reading without a lock\.$/,
  /^The disk of the store is full: reading without a lock\.$/,
  /^Removed a stale lock left by pid \d+/,
  // The next snapshot after a killed one clears what it left (#11.6) and says so.
  /^Removed .+ that an interrupted backup had left in the store\.$/,
  /^Warning: /,
  /^The archive was not recorded in the store/,
  /^Waiting for /,
];

/** Why a run's output is not an answer of ours (a crash, a raw error, a hang), or undefined when it is. */
function rawProblem(run) {
  if (run.timedOut) return `did not finish within its limit (${run.ms} ms)`;
  if (run.signal && !run.killed) return `died of ${run.signal}`;
  if (run.code === 134 || run.code === 139) return `exit ${run.code} (a crash)`;
  // stdout may hold anything a snapshot held (`cat`, file names): only crash text counts there.
  for (const [i, [pattern, what]] of RAW.entries()) {
    const text = i < 3 ? `${run.stderr}\n${run.stdout}` : run.stderr;
    const line = text.split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return `${what}: "${line.trim().slice(0, 240)}"`;
  }
  return undefined;
}

/** The lines of stderr that are not notices. */
function errorLines(run) {
  return run.stderr.split('\n').filter((l) => l.trim() !== '' && !NOTICE.some((p) => p.test(l)));
}

/**
 * Whether a failed run answered as the CLI contract says: an expected exit code, and one sentence of ours
 * (exit 2: the sentence, then the usage text). `about`: a pattern the sentence must match. `lines`: how many
 * error lines are allowed (a summary of many failed entries is a few lines).
 */
function sentenceProblem(run, { codes = [1], about, lines = 1 } = {}) {
  const raw = rawProblem(run);
  if (raw) return raw;
  if (!codes.includes(run.code))
    return `exit ${run.code}, expected ${codes.join(' or ')}${run.stderr ? ` (stderr: ${oneLine(run.stderr)})` : ''}`;
  const errors = errorLines(run);
  if (errors.length === 0) return 'no sentence on stderr';
  const counted = run.code === 2 ? errors.slice(0, 1) : errors;
  if (run.code === 2 && !/^Usage: /m.test(run.stderr) && errors.length > 1)
    return `usage error without the usage text: ${oneLine(run.stderr)}`;
  if (counted.length > lines)
    return `${counted.length} lines on stderr, expected at most ${lines}: ${oneLine(run.stderr)}`;
  const first = counted[0];
  if (!/^(project-backup|not (restored|mirrored|exported): |\d[\d,]* items? (was|were) not )/.test(first))
    return `stderr does not start with a sentence of ours: "${first.slice(0, 200)}"`;
  // Lines of a many-entries summary ("not restored: <path>: <reason>", "… The first 5:") have their own form.
  if (first.startsWith('project-backup') && !/[.!?)"]$/.test(first.trim()))
    return `not a whole sentence (no full stop): "${first.slice(0, 240)}"`;
  // A long name the user gave may be quoted back in full; the rest of the sentence must stay short.
  const measured = (run.args ?? [])
    .filter((a) => a.length > 60)
    .reduce((line, a) => line.split(a).join('<argument>'), first);
  if (measured.length > 700) return `a sentence of ${measured.length} characters`;
  if (about && !about.test(run.stderr)) return `the sentence does not say ${about}: "${first.slice(0, 240)}"`;
  return undefined;
}

/** Whether a run that should succeed did, with nothing but notices on stderr. */
function successProblem(run, { allowLines = 0 } = {}) {
  const raw = rawProblem(run);
  if (raw) return raw;
  if (run.code !== 0) return `exit ${run.code}: ${oneLine(run.stderr || run.stdout)}`;
  const errors = errorLines(run);
  if (errors.length > allowLines) return `succeeded but printed: ${oneLine(errors.join('\n'))}`;
  return undefined;
}

function oneLine(text, max = 400) {
  const flat = String(text)
    .trim()
    .replace(/\s*\n\s*/g, ' | ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

// ---- trees, digests, temp files ---------------------------------------------------------------------------------

/** rel path -> "d" | "l:<target>" | "f:<perm bits>:<sha256>" for everything under root (sorted). */
function digestTree(root, { skip = () => false } = {}) {
  const out = new Map();
  const walk = (dir, prefix) => {
    let names;
    try {
      names = fs.readdirSync(dir).sort();
    } catch (error) {
      if (error.code === 'ENOENT' && prefix === '') return;
      throw error;
    }
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name;
      if (skip(rel, name)) continue;
      const abs = path.join(dir, name);
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) {
        out.set(rel, 'd');
        walk(abs, rel);
      } else if (st.isSymbolicLink()) out.set(rel, `l:${fs.readlinkSync(abs)}`);
      else if (st.isFile())
        out.set(
          rel,
          `f:${(st.mode & 0o7777).toString(8)}:${crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`,
        );
      else out.set(rel, `other:${st.mode.toString(8)}`);
    }
  };
  walk(root, '');
  return out;
}

/** A mirror folder's digest, without the state file mirror keeps there (by design). */
function mirrorTree(dir) {
  return digestTree(dir, { skip: (rel) => rel === '.project-backup-mirror.json' });
}

/** The first few differences between two digests, or undefined when they are equal. */
function digestDiff(actual, expected, max = 4) {
  const diffs = [];
  for (const [rel, want] of expected) {
    const got = actual.get(rel);
    if (got === undefined) diffs.push(`missing ${rel}`);
    else if (got !== want) diffs.push(`${rel} differs (${got.slice(0, 16)} vs ${want.slice(0, 16)})`);
  }
  for (const rel of actual.keys()) if (!expected.has(rel)) diffs.push(`extra ${rel}`);
  if (diffs.length === 0) return undefined;
  return `${diffs.length} difference(s): ${diffs.slice(0, max).join('; ')}${diffs.length > max ? '; …' : ''}`;
}

/** Temp files of ours (`.pb-tmp-*`, or the older `<name>.tmp-*`) anywhere under root. */
function findTemps(root) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      if (/^\.pb-tmp-|\.tmp-[0-9a-z]+$/.test(e.name)) found.push(abs);
      if (e.isDirectory()) walk(abs);
    }
  };
  walk(root);
  return found;
}

/** Every file under dir (relative), for "nothing new appeared here" checks. */
function listFiles(dir) {
  return fs.existsSync(dir) ? [...digestTree(dir).keys()] : [];
}

function writeFiles(root, files) {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    if (content === null) {
      fs.rmSync(abs, { recursive: true, force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

/**
 * A workspace of `small` text files in a few folders, `big` incompressible files of the given sizes, a link
 * and an empty folder; returns nothing (digestTree reads it back).
 */
function makeWorkspace(root, rand, { small = 20, big = [] } = {}) {
  fs.mkdirSync(root, { recursive: true });
  const files = {};
  for (let i = 0; i < small; i++)
    files[`${['src', 'docs', 'src/lib', ''][i % 4]}/f${i}.txt`.replace(/^\//, '')] = rand.text(rand.int(10, 4000));
  big.forEach((size, i) => (files[`data/big${i}.bin`] = rand.bytes(size)));
  writeFiles(root, files);
  fs.mkdirSync(path.join(root, 'empty'), { recursive: true });
  fs.symlinkSync('src/f0.txt', path.join(root, 'link-to-f0'));
  fs.chmodSync(path.join(root, 'src/f0.txt'), 0o755);
}

/** Changes a workspace a little: a few text files edited, one added, one deleted; `bigSize`: one big file rewritten. */
function mutateWorkspace(root, rand, { bigSize } = {}) {
  const texts = [...digestTree(root).entries()]
    .filter(([rel, d]) => d.startsWith('f:') && rel.endsWith('.txt'))
    .map(([rel]) => rel);
  const files = {};
  for (let i = 0; i < 3 && texts.length; i++) files[rand.pick(texts)] = rand.text(rand.int(10, 4000));
  files[`src/new-${rand.hex(4)}.txt`] = rand.text(rand.int(10, 2000));
  if (texts.length > 6) files[rand.pick(texts.filter((t) => t !== 'src/f0.txt'))] = null;
  if (bigSize) {
    const bigs = [...digestTree(root).keys()].filter((rel) => rel.endsWith('.bin'));
    files[bigs.length ? rand.pick(bigs) : 'data/big0.bin'] = rand.bytes(bigSize);
  }
  writeFiles(root, files);
}

// ---- mounts --------------------------------------------------------------------------------------------------

const mounts = [];

function canMount() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (mount needs it)';
  return undefined;
}

/** Mounts a tmpfs of `bytes` at `at`; returns a reason when it cannot. */
function mountTmpfs(at, bytes) {
  const why = canMount();
  if (why) return why;
  fs.mkdirSync(at, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', at], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${oneLine(r.stderr || r.error?.message || '')}`;
  mounts.push(at);
  return undefined;
}

/** A read-only bind mount of `src` at `at` that really refuses writes; returns a reason when it cannot. */
function bindReadOnly(src, at) {
  const why = canMount();
  if (why) return why;
  fs.mkdirSync(at, { recursive: true });
  const r = spawnSync('mount', ['--bind', src, at], { encoding: 'utf8' });
  if (r.status !== 0) return `mount --bind failed: ${oneLine(r.stderr)}`;
  mounts.push(at);
  const ro = spawnSync('mount', ['-o', 'remount,bind,ro', at], { encoding: 'utf8' });
  try {
    fs.writeFileSync(path.join(at, '.probe'), '');
    fs.unlinkSync(path.join(at, '.probe'));
    unmount(at);
    return `the bind mount stayed writable (${oneLine(ro.stderr) || 'remount,ro ignored'})`;
  } catch {
    return undefined; // EROFS, as wanted
  }
}

function unmount(at) {
  const i = mounts.indexOf(at);
  if (i < 0) return;
  if (spawnSync('umount', [at]).status !== 0) spawnSync('umount', ['-l', at]);
  mounts.splice(i, 1);
}

/** Whether the kernel still lists a mount under `prefix`. */
function mountsUnder(prefix) {
  const table = fs.readFileSync('/proc/self/mounts', 'utf8');
  return table.split('\n').filter((l) => l.split(' ')[1]?.startsWith(prefix));
}

/** Argv prefix that runs a command as user nobody (65534), or a reason why not. */
function asNobody() {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { why: 'not root (switching user needs it)' };
  const prefix = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), 'id', '-u'], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.stdout.trim() !== '65534')
    return { why: `setpriv cannot switch to uid 65534 (${oneLine(probe.stderr || probe.error?.message || '')})` };
  return { prefix };
}

/** Ends every CLI process still running and undoes every mount, newest first. Safe to call twice. */
function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  for (const at of [...mounts].reverse()) unmount(at);
}

// ---- one loop's record ------------------------------------------------------------------------------------------

class Loop {
  constructor(name, { seed, rerun }) {
    this.name = name;
    this.seed = seed;
    this.rerun = rerun;
    this.rounds = 0;
    this.checks = 0;
    this.passed = 0;
    this.failures = [];
    this.skipped = [];
    this.notes = [];
    this.round = 0;
  }

  /** Counts a check; a failed one is kept with what failed, the detail and the command that shows it. */
  check(ok, what, detail, run) {
    this.checks++;
    if (ok) this.passed++;
    else
      this.failures.push({
        round: this.round,
        what,
        detail: detail ? oneLine(detail, 600) : '',
        command: run?.cmd ?? run ?? '',
        rerun: this.rerun,
      });
    return ok;
  }

  /** A check whose problem text (undefined: fine) comes from sentenceProblem/successProblem/digestDiff. */
  expect(problem, what, run) {
    return this.check(problem === undefined, what, problem, run);
  }

  skip(what, why) {
    this.skipped.push(`${what}: ${why}`);
  }

  note(text) {
    this.notes.push(text);
  }
}

module.exports = {
  ROOT,
  CLI,
  prng,
  cli,
  commandLine,
  rawProblem,
  errorLines,
  sentenceProblem,
  successProblem,
  oneLine,
  digestTree,
  digestDiff,
  mirrorTree,
  findTemps,
  listFiles,
  writeFiles,
  makeWorkspace,
  mutateWorkspace,
  canMount,
  mountTmpfs,
  bindReadOnly,
  unmount,
  mountsUnder,
  asNobody,
  cleanup,
  Loop,
};
