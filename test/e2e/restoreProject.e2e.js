// The worst day, as a user lives it (#12): a git project with an unpushed commit, a stash and a branch is
// backed up, then its folder is deleted. In a new window on an empty folder, "Backup: Restore a Project from
// Backups..." lists it; four actions (the command, the project, Enter on the newest snapshot, Enter on the
// preview) bring it back at its old path, byte for byte, with a working repository: `git log` shows the
// unpushed commit, `git status` is clean, the stash and the branch are there.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const {
  waitForWorkbench,
  waitForLocator,
  runCommand,
  acceptQuickPick,
  waitForNotification,
  waitUntil,
} = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const NAME = 'my-lost-app';
const UNPUSHED = 'Fix the parser (not pushed yet)';

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ann',
      GIT_AUTHOR_EMAIL: 'ann@example.com',
      GIT_COMMITTER_NAME: 'Ann',
      GIT_COMMITTER_EMAIL: 'ann@example.com',
    },
  }).trim();
}

/** Every file below `root` but .git, with its bytes. */
function filesOf(root) {
  const out = new Map();
  const walk = (dir, rel) => {
    for (const name of fs.readdirSync(dir).sort()) {
      if (!rel && name === '.git') continue;
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(abs).isDirectory()) walk(abs, r);
      else out.set(r, fs.readFileSync(abs));
    }
  };
  walk(root, '');
  return out;
}

/** What the project looked like when it was backed up, to compare the restored one with. */
let expected;

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'restore-project',
  title: 'A deleted git project comes back from an empty window in four actions, unpushed commit and all',
  timeout: 240_000,
  async prepare({ storePath, scratch }) {
    const project = path.join(scratch, NAME);
    const remote = path.join(scratch, 'origin.git');
    fs.mkdirSync(project, { recursive: true });
    git(scratch, 'init', '--quiet', '--bare', remote);
    git(project, 'init', '--quiet', '-b', 'main');
    fs.mkdirSync(path.join(project, 'src'));
    fs.writeFileSync(path.join(project, 'src', 'parser.js'), 'export function parse(s) {\n  return s.split(",");\n}\n');
    fs.writeFileSync(path.join(project, 'README.md'), `# ${NAME}\n`);
    fs.writeFileSync(path.join(project, 'logo.bin'), Buffer.from([0, 255, 1, 254, 2, 253]));
    git(project, 'add', '-A');
    git(project, 'commit', '--quiet', '-m', 'First version');
    git(project, 'remote', 'add', 'origin', remote);
    git(project, 'push', '--quiet', 'origin', 'main');
    git(project, 'branch', 'feature/csv');
    fs.writeFileSync(
      path.join(project, 'src', 'parser.js'),
      'export function parse(s) {\n  return s.split(",").map((x) => x.trim());\n}\n',
    );
    git(project, 'commit', '--quiet', '-am', UNPUSHED);
    fs.writeFileSync(path.join(project, 'README.md'), `# ${NAME}\n\nwork in progress\n`);
    git(project, 'stash', 'push', '--quiet', '-m', 'half-written docs');
    expected = {
      files: filesOf(project),
      log: git(project, 'log', '--oneline', 'main'),
      branches: git(project, 'branch', '--list', '--format=%(refname:short)'),
      stash: git(project, 'stash', 'list'),
      unpushed: git(project, 'rev-list', '--count', 'origin/main..main'),
      project,
    };
    // Backed up by the CLI into the store the editor uses (a full snapshot takes .git), then lost.
    execFileSync(process.execPath, [CLI, 'snapshot', project, '--repo', storePath, '--label', 'end of the day'], {
      encoding: 'utf8',
    });
    fs.rmSync(project, { recursive: true, force: true });
    const empty = path.join(scratch, 'new-empty-folder');
    fs.mkdirSync(empty);
    return { open: empty };
  },

  async run({ page, step, screenshot, log }) {
    step('the workbench to load (an empty folder)');
    await waitForWorkbench(page, { emptyFolder: true });
    await screenshot('restore-project-0-empty-window');
    let actions = 0;

    step('action 1: Backup: Restore a Project from Backups... from the palette');
    await runCommand(page, 'Backup: Restore a Project from Backups...');
    actions++;

    step('action 2: the lost project in the list of workspaces');
    const widget = page.locator('.quick-input-widget');
    const row = widget.locator('.quick-input-list .monaco-list-row', { hasText: NAME }).first();
    await waitForLocator(row, `the row of ${NAME} in the list of workspaces`);
    const rowText = ((await row.textContent()) || '').replace(/\s+/g, ' ').trim();
    log(`listed: ${rowText}`);
    if (!/folder missing/.test(rowText)) throw new Error(`the row does not say the folder is missing: ${rowText}`);
    await screenshot('restore-project-1-workspaces');
    await row.click();
    actions++;

    step('action 3: Enter on the newest snapshot');
    await waitUntil(
      async () =>
        /restore which snapshot/.test(
          (await widget
            .locator('input.input')
            .getAttribute('placeholder')
            .catch(() => '')) || '',
        ),
      'the list of snapshots',
    );
    await screenshot('restore-project-2-snapshots');
    const snapshots = await acceptQuickPick(page, '');
    log(`newest snapshot: ${snapshots.focused}`);
    if (!/end of the day/.test(snapshots.focused))
      throw new Error(`the newest snapshot is not the labelled one: ${snapshots.focused}`);
    actions++;

    step('action 4: Enter on the preview');
    await waitUntil(
      async () =>
        /^Restore /.test(
          (
            (await widget
              .locator('.quick-input-title')
              .textContent()
              .catch(() => '')) || ''
          ).trim(),
        ),
      'the restore preview',
    );
    await screenshot('restore-project-3-preview');
    const preview = await acceptQuickPick(page, 'Restore');
    log(`preview: ${preview.title} · ${preview.placeholder}`);
    actions++;

    step('the restored notification');
    const done = await waitForNotification(page, new RegExp(`^Restored ${NAME}`), { failOn: /failed/ });
    log(`notification: ${done}`);
    await screenshot('restore-project-4-restored');
    log(`user actions from the palette to the restored project: ${actions}`);

    step('the files, byte for byte, and a working git repository');
    const { project } = expected;
    const restored = filesOf(project);
    if ([...expected.files.keys()].join() !== [...restored.keys()].join())
      throw new Error(`files differ: ${[...restored.keys()].join(', ')}`);
    for (const [rel, bytes] of expected.files) if (!bytes.equals(restored.get(rel))) throw new Error(`${rel} differs`);
    const checks = {
      log: git(project, 'log', '--oneline', 'main'),
      status: git(project, 'status', '--porcelain'),
      branches: git(project, 'branch', '--list', '--format=%(refname:short)'),
      stash: git(project, 'stash', 'list'),
      unpushed: git(project, 'rev-list', '--count', 'origin/main..main'),
    };
    if (checks.log !== expected.log || !checks.log.includes(UNPUSHED))
      throw new Error(`git log differs: ${checks.log}`);
    if (checks.status !== '') throw new Error(`git status is not clean: ${checks.status}`);
    if (checks.branches !== expected.branches) throw new Error(`branches differ: ${checks.branches}`);
    if (checks.stash !== expected.stash) throw new Error(`stash differs: ${checks.stash}`);
    if (checks.unpushed !== '1') throw new Error(`unpushed commits: ${checks.unpushed}`);
    log(
      `git log: ${checks.log.split('\n').join(' | ')}; status clean; branches ${checks.branches.split('\n').join(', ')}; stash: ${checks.stash}`,
    );
    if (actions > 4) throw new Error(`${actions} actions: more than 4`);
  },
};
