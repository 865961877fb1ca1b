// A branch switch is labelled by itself (#14): the project is on feature/login; `git checkout main` in a
// terminal changes its files, the file watcher snapshots them, and the snapshot just before the switch is
// labelled "before switching to main" in the Snapshots view, one click away, with no alarm raised (git has
// those files).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const {
  waitForWorkbench,
  waitForView,
  openViewContainer,
  treeItem,
  waitForLocator,
  expandTreeItem,
  moveMouseAway,
  notificationTexts,
} = require('./workbench');
const { CLI, cli, waitForWatcher } = require('./backups');

function git(cwd, ...args) {
  return execFileSync(
    'git',
    ['-c', 'user.name=Ann', '-c', 'user.email=ann@example.com', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
}

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'branch-switch',
  title: 'git checkout main in a terminal: the snapshot before it is labelled "before switching to main"',
  timeout: 180_000,
  async prepare({ folders, storePath }) {
    const folder = folders[0];
    git(folder, 'init', '--quiet', '-b', 'main');
    fs.writeFileSync(path.join(folder, 'watcher-probe.txt'), 'tracked, changed by the test to see the watcher work\n');
    git(folder, 'add', '-A');
    git(folder, 'commit', '--quiet', '-m', 'the project');
    git(folder, 'checkout', '--quiet', '-b', 'feature/login');
    fs.writeFileSync(path.join(folder, 'src', 'login.js'), 'export function login(user) {\n  return user.name;\n}\n');
    fs.appendFileSync(path.join(folder, 'src', 'index.js'), "import { login } from './login.js';\n");
    fs.appendFileSync(path.join(folder, 'README.md'), '\nLog in with your name.\n');
    git(folder, 'add', '-A');
    git(folder, 'commit', '--quiet', '-m', 'login');
    execFileSync(process.execPath, [CLI, 'snapshot', folder, '--repo', storePath], { encoding: 'utf8' });
  },

  async run({ page, step, screenshot, log, folders, storePath }) {
    const folder = folders[0];
    step('the workbench to load');
    await waitForWorkbench(page);
    await openViewContainer(page, 'Backups');
    await waitForView(page, 'Snapshots');
    step('the file watcher to be running');
    log(`watcher running after ${await waitForWatcher(folder, storePath)} probe write(s)`);
    const before = cli('list', '--repo', storePath, '--workspace', folder).pop();
    log(
      `the snapshot before the switch: ${before.id.slice(0, 8)} [${before.trigger}] on ${before.git && before.git.branch}`,
    );

    step('git checkout main in a terminal');
    git(folder, 'checkout', '--quiet', 'main');
    if (fs.existsSync(path.join(folder, 'src', 'login.js'))) throw new Error('the checkout left src/login.js');

    step('the label');
    await expandTreeItem(treeItem(page, 'Snapshots', /^Today\b/));
    const labelled = treeItem(page, 'Snapshots', /before switching to main/);
    await waitForLocator(labelled, 'a snapshot labelled "before switching to main"');
    log(`row: ${await labelled.getAttribute('aria-label')}`);
    const record = cli('list', '--repo', storePath, '--workspace', folder).find(
      (s) => s.label === 'before switching to main',
    );
    if (!record || record.id !== before.id)
      throw new Error(
        `the label is not on the snapshot before the switch (${before.id.slice(0, 8)}): ${record ? record.id.slice(0, 8) : 'none'}`,
      );
    const alarms = (await notificationTexts(page)).filter((t) => /outside the editor/.test(t));
    if (alarms.length) throw new Error(`a branch switch raised an alarm: ${alarms.join(' | ')}`);
    await labelled.hover();
    await waitForLocator(
      page
        .locator('.monaco-hover, .workbench-hover')
        .filter({ hasText: /labelled automatically/ })
        .first(),
      "the row's tooltip",
    );
    await screenshot('branch-switch');
    await moveMouseAway(page);
  },
};
