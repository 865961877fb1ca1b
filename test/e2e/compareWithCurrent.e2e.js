// "Compare with Current" from the File History view, as a user does: a labelled snapshot from the palette,
// the file changed outside the editor (an external-change snapshot, so the file has two versions), the
// file opened so File History follows it, then the older version's inline "Compare with Current": a
// side-by-side diff of that version against the file on disk, titled "index.js (time) ↔ index.js (current)".
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
  clickInlineAction,
  waitForDiffEditor,
  settleNotifications,
  moveMouseAway,
  waitUntil,
} = require('./workbench');

/** Snapshot Workspace asks for an optional label before it snapshots. */
const LABEL_PROMPT = /^Label for this snapshot/;

const LABEL = 'before the change';

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'compare-with-current',
  title: 'Compare with Current on a File History version opens a side-by-side diff against the file',
  async run({ page, step, screenshot, log, folders }) {
    const file = path.join(folders[0], 'src', 'index.js');
    const original = fs.readFileSync(file, 'utf8');
    await waitForWorkbench(page);

    // 1. Version one: a labelled snapshot of the workspace.
    step('1. Version one');
    await runCommand(page, 'Backup: Snapshot Workspace');
    await answerInputBox(page, LABEL_PROMPT, { text: LABEL });
    const taken = await waitForNotification(page, /^Snapshot [0-9a-f]{8}\b/, {
      failOn: /^(Snapshot failed|Open a folder|Nothing changed)/,
    });
    log(`first snapshot: ${taken}`);

    // 2. Version two: the file changed outside the editor (one line changed, one added, one removed).
    step('2. Version two');
    const changed = original
      .replace('const scores = [72, 88, 95, 64];', 'const scores = [72, 88, 95, 64, 100];')
      .replace("console.log(title('Scores'));\n", '')
      .concat('console.log(`max:   ${Math.max(...scores)}`);\n');
    if (changed === original) throw new Error('the fixture src/index.js is not what this scenario expects');
    fs.writeFileSync(file, changed);

    // 3. File History follows the active editor: open the file, then the Backups view.
    step('3. File History follows the active editor');
    await openFile(page, 'src/index.js');
    await openViewContainer(page, 'Backups');
    await waitForView(page, 'File History');
    // The external-change snapshot lands after the watcher's debounce.
    const newest = treeItem(page, 'File History', /external change/).first();
    await waitForLocator(newest, 'File History to list the external-change version');
    const older = treeItem(page, 'File History', new RegExp(LABEL)).first();
    await waitForLocator(older, `File History to list the version labelled "${LABEL}"`);
    const rows = await page
      .locator('.pane', { has: page.locator('.pane-header', { hasText: 'File History' }) })
      .getByRole('treeitem')
      .evaluateAll((items) => items.map((i) => i.getAttribute('aria-label')));
    log(`File History: ${rows.join(' | ')}`);
    if (rows.length < 2) throw new Error(`File History shows ${rows.length} version(s), expected at least 2`);

    // 4. The older version's inline "Compare with Current".
    step('4. The older version\'s inline "Compare with Current"');
    await clickInlineAction(page, older, 'Compare with Current');
    const diff = await waitForDiffEditor(page);
    await waitForLocator(diff.locator('.line-insert, .char-insert').first(), 'the diff to mark an insertion', {
      state: 'attached',
    });
    await waitForLocator(diff.locator('.line-delete, .char-delete').first(), 'the diff to mark a deletion', {
      state: 'attached',
    });
    const sideBySide = await diff.evaluate((el) => el.classList.contains('side-by-side'));
    if (!sideBySide) throw new Error('the diff editor is not side by side');

    const tab = page.locator('.editor-group-container.active .tabs-container .tab.active').first();
    const tabTitle = ((await tab.locator('.label-name').first().textContent()) || '').trim();
    log(`diff tab: ${tabTitle}`);
    if (!tabTitle.includes('index.js') || !tabTitle.includes('↔'))
      throw new Error(`the diff tab's title is "${tabTitle}", expected index.js ... ↔ ...`);

    // Both sides hold what they should: the snapshot's version on the left, the file now on the right.
    const sides = await waitUntil(async () => {
      let [left, right] = await Promise.all([
        diff.locator('.editor.original .view-lines').first().textContent(),
        diff.locator('.editor.modified .view-lines').first().textContent(),
      ]);
      [left, right] = [left, right].map((t) => (t || '').replace(/\u00a0/g, ' '));
      return left.includes("title('Scores')") && right.includes('Math.max') ? { left, right } : undefined;
    }, 'the old version on the left and the current file on the right');
    if (sides.left.includes('Math.max') || !sides.right.includes('64, 100]'))
      throw new Error('the diff sides are the wrong way round or stale');

    await moveMouseAway(page);
    await settleNotifications(page);
    await screenshot('compare-with-current');
  },
};
