// Open Snapshot as Folder (#15), as a user does it: a marker line is in src/index.js when a snapshot is
// taken, then removed from the live file; "Backup: Open Snapshot as Folder" adds the snapshot as a read-only
// folder, and Search across files finds the marker there, and only there.
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
  waitUntil,
} = require('./workbench');

const MARKER = 'OLD_ONLY_IN_THE_SNAPSHOT_4217';

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'snapshot-folder',
  title: 'A snapshot opened as a read-only folder is searched like the workspace',
  // A workspace of folders already: the snapshot is added without the window turning into one (in a
  // single-folder window VS Code reloads it into an untitled workspace, a transition code-server races
  // under load; the integration suite covers the folder being added, the multi-root run).
  multiRoot: true,
  async run({ page, step, screenshot, log, folders }) {
    const file = path.join(folders[0], 'src', 'index.js');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `${original}\n// ${MARKER}\n`);
    step('the workbench to load');
    await waitForWorkbench(page);

    step('a labelled snapshot with the marker');
    await runCommand(page, 'Backup: Snapshot Workspace');
    await answerInputBox(page, /^Label for this snapshot/, { text: 'with the marker' });
    log(await waitForNotification(page, /^(Snapshot [0-9a-f]{8}\b|Nothing changed)/, { failOn: /failed/ }));
    fs.writeFileSync(file, original);

    step('Backup: Open Snapshot as Folder');
    await runCommand(page, 'Backup: Open Snapshot as Folder');
    // In a workspace of folders it first asks which folder (the first holds the marker), then which snapshot.
    const first = await acceptQuickPick(page, '');
    let picked = first.focused;
    if (!/with the marker/.test(first.focused)) {
      const row = page
        .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'with the marker' })
        .first();
      await waitForLocator(row, 'the snapshot row in the list of snapshots');
      picked = ((await row.textContent()) || '').replace(/\s+/g, ' ').trim();
      await row.click();
    }
    log(`folder: ${first.focused}; snapshot: ${picked}`);
    const header = page.locator('.explorer-folders-view .monaco-list-row', { hasText: '(read-only)' }).first();
    await waitForLocator(header, 'the opened snapshot in the Explorer', { timeout: 120_000 });
    log(`explorer: ${((await header.textContent()) || '').trim()}`);
    await screenshot('snapshot-folder-1-explorer');

    step('Search across files for the marker');
    await page.keyboard.press('Control+Shift+F');
    const input = page.locator('.search-view .search-widget textarea, .search-view .search-widget input').first();
    await waitForLocator(input, 'the search box');
    await input.fill(MARKER);
    await page.keyboard.press('Enter');
    const results = page.locator('.search-view .results .monaco-list-row');
    await waitUntil(async () => (await results.count()) >= 2, 'search results');
    const rows = (await results.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    log(`results: ${rows.join(' | ')}`);
    await screenshot('snapshot-folder-2-search');
    if (!rows.some((r) => r.includes(MARKER))) throw new Error(`the marker is not in the results: ${rows.join(' | ')}`);
    if (!rows.some((r) => /read-only/.test(r) || /index\.js/.test(r)))
      throw new Error(`no result in the opened snapshot: ${rows.join(' | ')}`);

    // The backups carry on for the real folders, and the opened snapshot is not one of them.
    step('the status bar still backing up the real folders');
    const status = page.locator('.statusbar-item', { hasText: /Backed up|Loading backups/ }).first();
    await waitForLocator(status, 'the Project Backup status bar item', { timeout: 120_000 });
    log(`status bar: ${((await status.textContent()) || '').trim()}`);
    await screenshot('snapshot-folder-3-after');
  },
};
