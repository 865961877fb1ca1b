#!/usr/bin/env node
// `npm run test:stress`: the stages that drive real VS Code (integration, multi-root integration, e2e), run
// several times in a row while busy loops keep the CPU loaded, as on a developer's machine that is still
// building or testing something else when CI starts. Proves the tests wait for what they need rather than
// for a time that a quiet machine happens to meet.
//
//   node scripts/stress.js [--runs N] [--busy N] [--stages integration,e2e,...]
//
//   --runs    how many rounds (default 5)
//   --busy    how many busy loops beside the tests (default 2: on a 2-core machine, every core is contended)
//   --stages  which stages of scripts/test.js each round runs (default integration,integration-multi-root,e2e)
//
// Each round's whole output goes to test-results/stress/round-N.log, with copies of its failure screenshots.
// Prints each round's result and time, then `stress: N passed, N failed` counting rounds; exits non-zero if
// any round failed. The busy loops end with the script, whatever happens.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
/** Each round's whole output and failure screenshots (the e2e stage empties its screenshot folder each run). */
const LOGS = path.join(root, 'test-results', 'stress');
const SCREENSHOTS = path.join(root, 'test-results', 'screenshots');

function parseArgs(argv) {
  const options = { runs: 5, busy: 2, stages: 'integration,integration-multi-root,e2e' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') options.runs = Number(argv[++i]);
    else if (argv[i] === '--busy') options.busy = Number(argv[++i]);
    else if (argv[i] === '--stages') options.stages = argv[++i];
    else throw new Error(`unknown argument ${argv[i]} (--runs N, --busy N, --stages a,b)`);
  }
  if (!(options.runs >= 1) || !(options.busy >= 0)) throw new Error('--runs needs a number >= 1, --busy a number >= 0');
  return options;
}

function run(args, label) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out, label }));
  });
}

(async () => {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`stress: ${error.message}`);
    process.exit(2);
  }
  console.log(
    `stress: build once, then ${options.runs} rounds of ${options.stages} beside ${options.busy} busy loop(s)`,
  );
  const built = await run(['scripts/test.js', '--only', 'build,compile,host'], 'build');
  if (built.code !== 0) {
    console.log(built.out);
    console.log('stress: 0 passed, 1 failed');
    process.exit(1);
  }
  fs.rmSync(LOGS, { recursive: true, force: true });
  fs.mkdirSync(LOGS, { recursive: true });
  const busy = [];
  for (let i = 0; i < options.busy; i++) busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const stopBusy = () => busy.forEach((child) => child.kill('SIGKILL'));
  process.on('exit', stopBusy);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  const results = [];
  for (let round = 1; round <= options.runs; round++) {
    const started = Date.now();
    const { code, out } = await run(['scripts/test.js', '--only', options.stages], `round ${round}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const log = path.join(LOGS, `round-${round}.log`);
    fs.writeFileSync(log, out);
    for (const shot of fs.existsSync(SCREENSHOTS)
      ? fs.readdirSync(SCREENSHOTS).filter((f) => f.endsWith('-failure.png'))
      : []) {
      fs.copyFileSync(path.join(SCREENSHOTS, shot), path.join(LOGS, `round-${round}-${shot}`));
    }
    const total = /total: (\d+) passed, (\d+) failed/.exec(out);
    const times = out
      .split('\n')
      .filter((l) => /^=== [\w-]+: (ok|FAILED)/.test(l))
      .map((l) => l.replace(/^=== /, ''));
    console.log(
      `round ${round}: ${code === 0 ? 'green' : 'RED'} in ${seconds} s (${total ? `${total[1]} passed, ${total[2]} failed` : 'no count'}; ${times.join('; ')})`,
    );
    if (code !== 0) console.log(`  whole output: ${log}`);
    if (code !== 0)
      console.log(
        out
          .split('\n')
          .filter((l) => /✖|failing|failed at step|screenshot|Error|timed out|^\s+\d+\) /.test(l))
          .slice(0, 40)
          .join('\n'),
      );
    results.push(code === 0);
  }
  stopBusy();
  const passed = results.filter(Boolean).length;
  console.log(`stress: ${passed} passed, ${results.length - passed} failed`);
  process.exit(passed === results.length ? 0 : 1);
})();
