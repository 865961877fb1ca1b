// What scenarios ask of the store behind the window, through the built CLI (dist/cli.js): its snapshots,
// and whether VS Code's file watcher is feeding the extension yet.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { waitUntil } = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** Runs the CLI with --json and parses what it prints. */
function cli(...args) {
  return JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8' }));
}

/**
 * VS Code's file watcher takes a few seconds to start, and what changes before is only seen by the next full
 * scan. Rewrites `probe` (workspace-relative; a tracked file in a git project, so `git clean` leaves it) until
 * a snapshot taken for an external change holds what was written. Returns how many writes it took.
 */
async function waitForWatcher(folder, storePath, probe = 'watcher-probe.txt') {
  let round = 0;
  await waitUntil(
    async () => {
      round++;
      const text = `probe ${round}\n`;
      fs.writeFileSync(path.join(folder, ...probe.split('/')), text);
      const deadline = Date.now() + 4000;
      while (Date.now() < deadline) {
        const list = cli('list', '--repo', storePath, '--workspace', folder);
        const newest = list[list.length - 1];
        if (newest && newest.trigger === 'external') {
          const content = execFileSync(process.execPath, [CLI, 'cat', newest.id, probe, '--repo', storePath], {
            encoding: 'utf8',
          });
          if (content === text) return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return false;
    },
    'an external-change snapshot of the probe (the file watcher running)',
    { timeout: 120_000 },
  );
  return round;
}

module.exports = { CLI, cli, waitForWatcher };
