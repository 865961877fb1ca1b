// Restore an earlier version of a file from the Snapshots tree, as a user does: snapshot from the palette,
// edit and save the file in the editor (an on-save snapshot), then in the Backups view open
// Today > the labelled snapshot > All files > src > index.js, click its inline Restore, confirm the
// preview, and find the old content back on disk and in the editor.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const {
  waitForWorkbench,
  waitForLocator,
  runCommand,
  answerInputBox,
  waitForNotification,
  waitForView,
  treeItem,
  openFile,
  openViewContainer,
  expandTreeItem,
  clickInlineAction,
  acceptQuickPick,
  waitUntil,
  settleNotifications,
  moveMouseAway,
} = require('./workbench');

/** Snapshot Workspace asks for an optional label before it snapshots. */
const LABEL_PROMPT = /^Label for this snapshot/;

const LABEL = 'before the edit';
const EDIT = '// an edit the restore must undo';

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'restore-from-tree',
  title: 'Restore from the Snapshots tree brings back the earlier version of an edited file',
  async run({ page, step, screenshot, log, folders }) {
    const file = path.join(folders[0], 'src', 'index.js');
    const original = fs.readFileSync(file, 'utf8');
    await waitForWorkbench(page);

    // 1. The version to go back to: a labelled snapshot of the whole workspace.
    step('1. The version to go back to');
    await runCommand(page, 'Backup: Snapshot Workspace');
    await answerInputBox(page, LABEL_PROMPT, { text: LABEL });
    const taken = await waitForNotification(page, /^Snapshot [0-9a-f]{8}\b/, {
      failOn: /^(Snapshot failed|Open a folder|Nothing changed)/,
    });
    const snapshotId = taken.match(/^Snapshot ([0-9a-f]{8})/)[1];
    log(`first snapshot: ${taken}`);

    // 2. Edit src/index.js in the editor and save: the file on disk changes and an on-save snapshot follows.
    step('2. Edit src/index.js in the editor and save');
    await openFile(page, 'src/index.js');
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(EDIT);
    await page.keyboard.press('Control+S');
    const edited = await waitUntil(() => {
      const now = fs.readFileSync(file, 'utf8');
      return now !== original && now.includes(EDIT) && now;
    }, 'the saved edit on disk');
    log(`saved edit: ${JSON.stringify(edited.slice(original.length - 1))}`);

    // 3. The Backups view: Today holds the labelled snapshot and, once the save debounce has passed, the on-save one.
    step('3. The Backups view');
    await openViewContainer(page, 'Backups');
    await waitForView(page, 'Snapshots');
    await expandTreeItem(treeItem(page, 'Snapshots', /^Today\b/));
    await waitForLocator(treeItem(page, 'Snapshots', /on save/).first(), 'the on-save snapshot in the Snapshots view');
    const snapshot = treeItem(page, 'Snapshots', new RegExp(LABEL));
    await expandTreeItem(snapshot);
    const allFiles = treeItem(page, 'Snapshots', /^All files\b/);
    await expandTreeItem(allFiles);
    await expandTreeItem(treeItem(page, 'Snapshots', /^src\b/));
    const version = treeItem(page, 'Snapshots', /^index\.js\b/);
    await waitForLocator(version, 'src/index.js in the snapshot');
    log(
      `tree: ${await snapshot.getAttribute('aria-label')} > ${await allFiles.getAttribute('aria-label')} > src > ${await version.getAttribute('aria-label')}`,
    );

    // 4. Inline Restore, then the preview quick pick: its first row restores.
    step('4. Inline Restore, then the preview quick pick');
    await clickInlineAction(page, version, 'Restore');
    const preview = await acceptQuickPick(page, 'Restore');
    log(`preview: ${preview.title} | ${preview.rows.join(' | ')}`);
    if (!/index\.js/.test(preview.title))
      throw new Error(`the preview's title does not name index.js: ${preview.title}`);
    if (!preview.rows.some((r) => /src\/index\.js/.test(r) && /overwrite/.test(r)))
      throw new Error(`the preview does not list src/index.js to overwrite: ${preview.rows.join(' | ')}`);

    const restored = await waitForNotification(page, /^Restored \d+ files? from snapshot/, {
      failOn: /failed|could not be restored/,
    });
    log(`notification: ${restored}`);
    if (!restored.startsWith(`Restored 1 file from snapshot ${snapshotId}`))
      throw new Error(`expected "Restored 1 file from snapshot ${snapshotId} ...", got "${restored}"`);

    // 5. The old content is back on disk, and the open editor shows it.
    step('5. The old content is back on disk, and the open editor shows it');
    const now = fs.readFileSync(file, 'utf8');
    if (now !== original) throw new Error(`src/index.js was not restored: ${JSON.stringify(now)}`);
    await waitUntil(
      async () =>
        !(await page.locator('.editor-instance .monaco-editor .view-lines').first().textContent()).includes(
          EDIT.slice(3),
        ),
      'the editor to show the restored content',
    );

    // The notification offers to undo it (the restore took or reused a snapshot of the edited state first).
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Restored' }).first();
    await waitForLocator(
      toast.locator('.monaco-button', { hasText: 'Undo' }),
      'the Undo button on the restore notification',
    );
    await moveMouseAway(page);
    await settleNotifications(page);
    await screenshot('restore-from-tree');
  },
};
