#!/usr/bin/env node
// The Quick start's main job (until the editor layer lands): snapshot a folder with the built CLI and show
// the store's snapshots. Defaults: this repository, into ~/.project-backup/store.
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const folder = path.resolve(process.argv[2] || process.cwd());
const repo = process.env.PROJECT_BACKUP_REPO || path.join(os.homedir(), '.project-backup', 'store');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');

function run(...args) {
  console.log(`$ project-backup ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run('snapshot', folder, '--repo', repo);
run('list', '--repo', repo, '--workspace', folder);
console.log(`\nThe store is at ${repo}. Try: node dist/cli.js ls latest --repo ${repo}`);
