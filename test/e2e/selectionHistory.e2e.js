// The history of a selection and a restored block (#15), as a user does it: geo.js is snapshotted twice
// with its function changed in between, then lines are added above the function; with the function
// selected, "Backup: Show History for Selection" lists the two earlier versions of just those lines and
// opens the diff at them; "Restore Selection from This Version" puts the oldest version's lines in place of
// the selection, unsaved, in the editor.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const {
  waitForWorkbench,
  waitForLocator,
  runCommand,
  answerInputBox,
  waitForNotification,
  acceptQuickPick,
  openFile,
  waitUntil,
  waitForDiffEditor,
} = require('./workbench');

const file = (header, body) => `${header}export function area(r) {\n  ${body}\n}\nexport const other = 1;\n`;

async function snapshot(page, label) {
  await runCommand(page, 'Backup: Snapshot Workspace');
  await answerInputBox(page, /^Label for this snapshot/, { text: label });
  return waitForNotification(page, /^(Snapshot [0-9a-f]{8}\b|Nothing changed)/, { failOn: /failed/ });
}

/** Opens src/geo.js and selects the function's three lines (it starts on line `first`, 1-based). */
async function selectFunction(page, first) {
  await openFile(page, 'src/geo.js');
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input.input');
  await waitForLocator(input, 'Go to Line');
  await input.fill(`:${first}`);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowDown');
}

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'selection-history',
  title: 'The history of a selected function, and a block restored from its oldest version',
  timeout: 240_000,
  async run({ page, step, screenshot, log, folders }) {
    const geo = path.join(folders[0], 'src', 'geo.js');
    fs.writeFileSync(geo, file('', 'return 3 * r * r;'));
    step('the workbench to load');
    await waitForWorkbench(page);

    step('two versions of the function, then lines added above it');
    log(await snapshot(page, 'rough area'));
    fs.writeFileSync(geo, file('', 'return Math.PI * r * r;'));
    log(await snapshot(page, 'exact area'));
    fs.writeFileSync(geo, file('// geometry\n// helpers\n', 'return Math.PI * r ** 2;'));

    step('Show History for Selection with the function selected');
    await selectFunction(page, 3);
    await runCommand(page, 'Backup: Show History for Selection');
    await waitUntil(
      async () =>
        /History of the selection/.test(
          (await page
            .locator('.quick-input-widget input.input')
            .getAttribute('placeholder')
            .catch(() => '')) || '',
        ),
      "the list of the selection's versions",
    );
    await screenshot('selection-history-1-versions');
    const listed = await acceptQuickPick(page, '');
    log(`versions: ${listed.rows.join(' | ')}`);
    if (listed.rows.length !== 2)
      throw new Error(`expected the 2 earlier versions of the selection, got ${listed.rows.length}`);
    if (!listed.rows.some((r) => /lines 1-3/.test(r)))
      throw new Error('the oldest version is not followed back to lines 1-3');
    await waitForDiffEditor(page);
    await screenshot('selection-history-2-diff');

    step('Restore Selection from This Version: the oldest');
    // Back to a plain editor of the file (the diff's halves would take the click).
    await runCommand(page, 'View: Close All Editors');
    await selectFunction(page, 3);
    await runCommand(page, 'Backup: Restore Selection from This Version');
    await waitUntil(
      async () =>
        /Restore the selection from/.test(
          (await page
            .locator('.quick-input-widget input.input')
            .getAttribute('placeholder')
            .catch(() => '')) || '',
        ),
      'the list of versions to restore from',
    );
    await page.keyboard.press('ArrowDown');
    await acceptQuickPick(page, '');
    const shown = async () =>
      (await page.locator('.editor-instance .monaco-editor .view-lines').allTextContents()).map((t) =>
        t.replace(/\u00a0/g, ' '),
      );
    await waitUntil(
      async () => (await shown()).some((t) => t.includes('// helpers') && t.includes('return 3 * r * r;')),
      'the restored block in the editor',
    );
    await screenshot('selection-history-3-restored-block');
    log(
      `the oldest lines are in the editor of the live file; on disk: ${fs.readFileSync(geo, 'utf8').includes('3 * r * r') ? 'saved' : 'not saved yet'}`,
    );
  },
};
