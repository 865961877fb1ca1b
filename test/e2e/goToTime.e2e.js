// "Backup: Go to Time..." restoring a folder as it was at a past moment (#14), as a user does it: the
// project was backed up, then src/lib changed (a file rewritten, one deleted, one added) and so did the
// README. The user types the time of the moment before ("10:02:35"), picks "Restore a folder as it was...",
// then src/lib, and accepts the preview: src/lib is exactly as it was, the README keeps its newer text, and
// the restore offers Undo.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const {
  waitForWorkbench,
  waitForView,
  openViewContainer,
  runCommand,
  waitForLocator,
  acceptQuickPick,
  waitForNotification,
  settleNotifications,
  moveMouseAway,
  waitUntil,
} = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

function snapshot(folder, storePath, ...args) {
  return JSON.parse(
    execFileSync(process.execPath, [CLI, 'snapshot', folder, '--repo', storePath, ...args, '--json'], {
      encoding: 'utf8',
    }),
  );
}

const pad = (n) => String(n).padStart(2, '0');

/** What src/lib held at the moment, and what was typed to get there. */
let then;

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'go-to-time',
  title:
    'Go to Time: a typed moment, "Restore a folder as it was", src/lib: the folder is back as it was, the rest untouched',
  timeout: 180_000,
  async prepare({ folders, storePath }) {
    const folder = folders[0];
    const lib = path.join(folder, 'src', 'lib');
    const first = snapshot(folder, storePath);
    const files = Object.fromEntries(fs.readdirSync(lib).map((name) => [name, fs.readFileSync(path.join(lib, name))]));
    // The moment to go back to: the first whole second after the snapshot. The changes come after it.
    const moment = new Date(Math.ceil(Date.parse(first.time) / 1000) * 1000);
    await waitUntil(async () => Date.now() > moment.getTime() + 1000, 'the clock to pass the moment', {
      timeout: 10_000,
      interval: 50,
    });
    fs.writeFileSync(path.join(lib, 'math.js'), 'export const add = (a, b) => a + b + 1; // a bug, rewritten later\n');
    fs.rmSync(path.join(lib, 'format.js'));
    fs.writeFileSync(path.join(lib, 'new-helper.js'), 'export const helper = () => 42;\n');
    fs.writeFileSync(path.join(folder, 'README.md'), '# The README, changed after the moment\n');
    snapshot(folder, storePath);
    then = { files, typed: `${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` };
  },

  async run({ page, step, screenshot, log, folders }) {
    const folder = folders[0];
    const lib = path.join(folder, 'src', 'lib');
    step('the workbench to load');
    await waitForWorkbench(page);
    await openViewContainer(page, 'Backups');
    await waitForView(page, 'Snapshots');

    step('Backup: Go to Time... and a typed time');
    await runCommand(page, 'Backup: Go to Time...');
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    await waitUntil(
      async () => /Type a time/.test((await input.getAttribute('placeholder').catch(() => '')) || ''),
      'the Go to Time box',
    );
    await input.fill(then.typed);
    const typedRow = widget.locator('.quick-input-list .monaco-list-row', { hasText: 'as snapshot' }).first();
    await waitForLocator(typedRow, `the row for "${then.typed}"`);
    log(`typed "${then.typed}": ${((await typedRow.textContent()) || '').replace(/\s+/g, ' ').trim()}`);
    await screenshot('go-to-time-1-typed');
    await page.keyboard.press('Enter');

    step('Restore a folder as it was...');
    await waitUntil(
      async () => / as of /.test((await input.getAttribute('placeholder').catch(() => '')) || ''),
      'what to do with the workspace as of then',
    );
    await input.fill('Restore a folder');
    await screenshot('go-to-time-2-actions');
    const action = await acceptQuickPick(page, 'Restore a folder as it was');
    log(`actions: ${action.placeholder}`);

    step('the folder: src/lib');
    await waitUntil(
      async () => /Restore which folder/.test((await input.getAttribute('placeholder').catch(() => '')) || ''),
      'the list of folders',
    );
    await input.fill('src/lib');
    const folderPick = await acceptQuickPick(page, 'src/lib');
    log(`folders: ${folderPick.rows.join(' | ')}`);

    step('the preview');
    await waitUntil(
      async () =>
        /^Restore src\/lib\//.test(
          (
            (await widget
              .locator('.quick-input-title')
              .textContent()
              .catch(() => '')) || ''
          ).trim(),
        ),
      'the restore preview',
    );
    await screenshot('go-to-time-3-preview');
    const preview = await acceptQuickPick(page, 'Restore');
    log(`preview: ${preview.title} | ${preview.rows.join(' | ')}`);

    step('the result');
    const done = await waitForNotification(page, /^Restored \d+ files? from snapshot/, {
      failOn: /failed|could not be restored/,
    });
    log(`notification: ${done}`);
    const now = fs.readdirSync(lib).sort();
    if (now.join() !== Object.keys(then.files).sort().join())
      throw new Error(`src/lib holds ${now.join(', ')}, not ${Object.keys(then.files).join(', ')}`);
    for (const [name, bytes] of Object.entries(then.files))
      if (!fs.readFileSync(path.join(lib, name)).equals(bytes)) throw new Error(`src/lib/${name} is not as it was`);
    if (!/changed after the moment/.test(fs.readFileSync(path.join(folder, 'README.md'), 'utf8')))
      throw new Error('the README outside the folder was restored too');
    if (!/^Restored 3 files/.test(done))
      throw new Error(`expected 3 files restored (math.js, format.js, new-helper.js): ${done}`);
    const toast = page
      .locator('.notifications-toasts .notification-list-item', { hasText: 'Restored 3 files' })
      .first();
    await waitForLocator(toast.locator('.monaco-button', { hasText: 'Undo' }), 'the Undo button');
    await moveMouseAway(page);
    await settleNotifications(page);
    await screenshot('go-to-time-4-restored');
  },
};
