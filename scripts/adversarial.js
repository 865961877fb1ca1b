#!/usr/bin/env node
// `npm run test:adversarial`: the built CLI (dist/cli.js) attacked from outside, as real processes, the way a
// hostile or an unlucky user would: SIGKILL at random moments (crash), many writers with prune and readers at
// once (concurrency), a full tmpfs as store and as restore target (full-disk), a read-only bind mount and a
// user who may only read (read-only), crafted and damaged stores (hostile), and bad arguments (bad-input).
// Each loop runs a fixed number of rounds and checks invariants with real commands: verify --read-data,
// restores byte-compared with their source, exit codes, one sentence of ours on stderr (never a raw Node error,
// a stack or a crash), no temp files left in users' folders.
//
//   node scripts/adversarial.js [--seed N] [--rounds-scale X] [--only crash,hostile,...] [--keep]
//
//   --seed          the seed of every random choice (default: new each run; printed, and in each failure's rerun)
//   --rounds-scale  multiplies every loop's rounds (default 1; ADVERSARIAL_ROUNDS_SCALE=10 for a soak)
//   --only          some loops: crash, concurrency, full-disk, read-only, hostile, bad-input
//   --keep          keep the scratch folders (stores, targets) for a look after a failure
//
// Where a loop cannot run (not root: no mounts, no other user) it says "skipped: why", never passes silently.
// Prints a table (rounds, checks, passed, failed, skipped, time per loop), each failure with the command that
// shows it and the rerun line with its seed, and writes test-results/adversarial/summary.json. Exit 1 on any
// failure. Scratch folders go under /dev/shm when it is a writable tmpfs (ADVERSARIAL_TMPDIR overrides);
// every mount and process the loops start is undone, also on Ctrl+C.
'use strict';

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./adversarial/harness');

const LOOPS = [
  { name: 'crash', file: 'crash' },
  { name: 'concurrency', file: 'concurrency' },
  { name: 'full-disk', file: 'fullDisk' },
  { name: 'read-only', file: 'readOnly' },
  { name: 'hostile', file: 'hostile' },
  { name: 'bad-input', file: 'badInput' },
];
const RESULTS = path.join(h.ROOT, 'test-results', 'adversarial');

function parseArgs(argv) {
  const options = {
    seed: process.env.ADVERSARIAL_SEED ? Number(process.env.ADVERSARIAL_SEED) : crypto.randomInt(1, 2 ** 31 - 1),
    scale: process.env.ADVERSARIAL_ROUNDS_SCALE ? Number(process.env.ADVERSARIAL_ROUNDS_SCALE) : 1,
    only: undefined,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') options.seed = Number(argv[++i]);
    else if (argv[i] === '--rounds-scale') options.scale = Number(argv[++i]);
    else if (argv[i] === '--only')
      options.only = new Set(
        String(argv[++i] ?? '')
          .split(',')
          .filter(Boolean),
      );
    else if (argv[i] === '--keep') options.keep = true;
    else throw new Error(`unknown argument ${argv[i]} (--seed N, --rounds-scale X, --only <loops>, --keep)`);
  }
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error('--seed takes a whole number');
  if (!(options.scale > 0)) throw new Error('--rounds-scale takes a number above 0');
  for (const name of options.only ?? [])
    if (!LOOPS.some((l) => l.name === name))
      throw new Error(`no loop named ${name} (${LOOPS.map((l) => l.name).join(', ')})`);
  return options;
}

/** Bundles dist/cli.js when it is missing or older than any source file it is built from. */
function ensureBuilt() {
  const newest = (p) => {
    const st = fs.statSync(p);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(0, ...fs.readdirSync(p).map((n) => newest(path.join(p, n))));
  };
  const built = fs.existsSync(h.CLI) ? fs.statSync(h.CLI).mtimeMs : 0;
  const sources = Math.max(
    newest(path.join(h.ROOT, 'src')),
    newest(path.join(h.ROOT, 'esbuild.js')),
    newest(path.join(h.ROOT, 'package.json')),
  );
  if (built >= sources) return;
  console.log('adversarial: dist/cli.js is missing or older than src/: node esbuild.js');
  const r = spawnSync(process.execPath, ['esbuild.js'], { cwd: h.ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('node esbuild.js failed');
}

function scratchRoot() {
  const base = process.env.ADVERSARIAL_TMPDIR || (isWritable('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const dir = fs.mkdtempSync(path.join(base, 'pb-adversarial-'));
  // Another user (the read-only loop's nobody) must reach the folders below.
  fs.chmodSync(dir, 0o755);
  return dir;
}

function isWritable(dir) {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A loop's own seed, from the run's seed and its name: `--only <loop> --seed N` replays the same choices. */
function loopSeed(seed, name) {
  return crypto.createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0);
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function printSummary(loops, totalMs, seed, scale) {
  const rows = [['loop', 'rounds', 'checks', 'passed', 'failed', 'skipped', 'time']];
  for (const l of loops)
    rows.push([
      l.name,
      String(l.rounds),
      String(l.checks),
      String(l.passed),
      String(l.failures.length),
      String(l.skipped.length),
      seconds(l.ms),
    ]);
  const sum = (k) => loops.reduce((n, l) => n + (Array.isArray(l[k]) ? l[k].length : l[k]), 0);
  rows.push([
    'all',
    String(sum('rounds')),
    String(sum('checks')),
    String(sum('passed')),
    String(sum('failures')),
    String(sum('skipped')),
    seconds(totalMs),
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\nAdversarial summary (seed ${seed}, rounds scale ${scale}):`);
  rows.forEach((r, i) => {
    console.log(`  ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ')}`);
    if (i === 0 || i === rows.length - 2) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  });
  for (const l of loops) {
    for (const s of l.skipped) console.log(`  ${l.name}: skipped: ${s}`);
    for (const n of l.notes) console.log(`  ${l.name}: ${n}`);
  }
  for (const l of loops) {
    if (l.failures.length === 0) continue;
    console.log(`\n${l.name}: ${l.failures.length} failure(s) (rerun: ${l.rerun})`);
    for (const f of l.failures.slice(0, 25)) {
      console.log(`  round ${f.round}: ${f.what}${f.detail ? `: ${f.detail}` : ''}`);
      if (f.command)
        console.log(
          `    command: ${f.command.length > 600 ? `${f.command.slice(0, 600)}… (in full in summary.json)` : f.command}`,
        );
    }
    if (l.failures.length > 25)
      console.log(`  …and ${l.failures.length - 25} more in test-results/adversarial/summary.json`);
  }
}

(async () => {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`adversarial: ${error.message}`);
    process.exit(2);
  }
  ensureBuilt();
  const scratch = scratchRoot();
  let interrupted = false;
  const finish = () => {
    h.cleanup();
    if (!options.keep) fs.rmSync(scratch, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.log(`\nadversarial: ${signal}: stopping the loops' processes and mounts`);
      finish();
      process.exit(130);
    });
  }
  const chosen = LOOPS.filter((l) => !options.only || options.only.has(l.name));
  console.log(
    `adversarial: seed ${options.seed}, rounds scale ${options.scale}, loops ${chosen.map((l) => l.name).join(', ')}; scratch ${scratch}`,
  );
  const started = Date.now();
  const loops = [];
  try {
    for (const spec of chosen) {
      const seed = loopSeed(options.seed, spec.name);
      const mod = require(`./adversarial/${spec.file}`);
      const rerun = `npm run test:adversarial -- --only ${spec.name} --seed ${options.seed}${options.scale !== 1 ? ` --rounds-scale ${options.scale}` : ''}`;
      const loop = new h.Loop(spec.name, { seed, rerun });
      const dir = path.join(scratch, spec.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o755);
      const loopStarted = Date.now();
      process.stdout.write(`${spec.name}: `);
      try {
        await mod.run({
          loop,
          rand: h.prng(seed),
          scale: options.scale,
          scratch: dir,
          rounds: Math.max(1, Math.round(mod.defaultRounds * options.scale)),
        });
      } catch (error) {
        loop.check(false, 'the loop itself failed', error.stack ?? String(error));
      } finally {
        h.cleanup();
        // What the loop made is no longer needed (the next loop starts from nothing), unless kept.
        if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
      }
      loop.ms = Date.now() - loopStarted;
      loops.push(loop);
      console.log(
        `${loop.rounds} rounds, ${loop.passed}/${loop.checks} checks passed${loop.failures.length ? `, ${loop.failures.length} FAILED` : ''}${loop.skipped.length ? `, ${loop.skipped.length} skipped` : ''} in ${seconds(loop.ms)}`,
      );
    }
  } finally {
    finish();
  }
  const left = h.mountsUnder(scratch);
  if (left.length)
    loops.push(
      Object.assign(new h.Loop('cleanup', { seed: options.seed, rerun: '' }), {
        ms: 0,
        checks: 1,
        failures: [{ round: 0, what: 'mounts left behind', detail: left.join('; '), command: '' }],
      }),
    );
  const totalMs = Date.now() - started;
  printSummary(loops, totalMs, options.seed, options.scale);
  fs.mkdirSync(RESULTS, { recursive: true });
  const summary = {
    seed: options.seed,
    roundsScale: options.scale,
    totalMs,
    loops: loops.map((l) => ({
      name: l.name,
      seed: l.seed,
      rounds: l.rounds,
      checks: l.checks,
      passed: l.passed,
      failed: l.failures.length,
      skipped: l.skipped,
      notes: l.notes,
      ms: l.ms,
      rerun: l.rerun,
      failures: l.failures,
    })),
  };
  fs.writeFileSync(path.join(RESULTS, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const failed = loops.reduce((n, l) => n + l.failures.length, 0);
  const passed = loops.reduce((n, l) => n + l.passed, 0);
  const skipped = loops.reduce((n, l) => n + l.skipped.length, 0);
  console.log(
    `\nSummary written to ${path.relative(process.cwd(), path.join(RESULTS, 'summary.json'))}; total ${seconds(totalMs)}.`,
  );
  console.log(`adversarial: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
})();
