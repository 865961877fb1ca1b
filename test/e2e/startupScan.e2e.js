// Nothing missed at start-up (#12), as a user meets it: the project was backed up, then changed while the
// editor was closed (a file written by another tool); the window opens, and in its first second a file is
// deleted and two are created from a terminal. Without anyone saving, the backups catch all of it: a
// snapshot with trigger "startup" holds the change made while closed, and the newest snapshot matches the
// folder as it is.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { waitForWorkbench, waitUntil } = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

function cli(...args) {
  return JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8' }));
}

/** Every file below `root`, relative, sorted. */
function filesOf(root) {
  const out = [];
  const walk = (dir, rel) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(abs).isDirectory()) walk(abs, r);
      else out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'startup-scan',
  title: 'Changes made while the editor was closed, and in its first second, are backed up without a save',
  async prepare({ folders, storePath }) {
    const folder = folders[0];
    execFileSync(process.execPath, [CLI, 'snapshot', folder, '--repo', storePath], { encoding: 'utf8' });
    fs.writeFileSync(
      path.join(folder, 'written-while-closed.txt'),
      'another tool wrote this while the editor was closed\n',
    );
  },

  async run({ page, step, screenshot, log, folders, storePath }) {
    const folder = folders[0];
    step('the workbench to load');
    await waitForWorkbench(page);
    // The first second after the window appears: a terminal deletes one file and creates two.
    fs.rmSync(path.join(folder, 'README.md'));
    fs.writeFileSync(path.join(folder, 'created-at-start-1.txt'), 'one\n');
    fs.writeFileSync(path.join(folder, 'created-at-start-2.txt'), 'two\n');
    const expected = filesOf(folder);

    step('a snapshot that matches the folder as it is now');
    const latest = await waitUntil(
      () => {
        const list = cli('list', '--repo', storePath, '--workspace', folder);
        const newest = list[list.length - 1];
        if (!newest) return undefined;
        const files = cli('ls', newest.id, '--repo', storePath, '--recursive')
          .filter((e) => e.type === 'file')
          .map((e) => e.path)
          .sort();
        return files.join('\n') === expected.join('\n') ? { list, newest } : undefined;
      },
      'a snapshot holding every change',
      { timeout: 90_000 },
    );
    await screenshot('startup-scan');
    const triggers = latest.list.map((s) => s.trigger);
    log(`snapshots: ${triggers.join(', ')}`);
    const startup = latest.list.find((s) => s.trigger === 'startup');
    if (!startup) throw new Error(`no start-up snapshot: ${triggers.join(', ')}`);
    const atStartup = cli('ls', startup.id, '--repo', storePath, '--recursive').map((e) => e.path);
    if (!atStartup.includes('written-while-closed.txt'))
      throw new Error(`the start-up snapshot misses the change made while closed: ${atStartup.join(', ')}`);
    log(
      `start-up snapshot ${startup.id.slice(0, 8)} holds written-while-closed.txt; newest ${latest.newest.id.slice(0, 8)} [${latest.newest.trigger}] matches the folder (${expected.length} files)`,
    );
  },
};
