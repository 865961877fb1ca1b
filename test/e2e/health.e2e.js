// "Backup: Show Backup Health" as a user sees it: after a first snapshot the view says the 3-2-1 rule is not
// met and lists the gaps with their fixes; one click on "No offsite copy" asks where the copy goes
// (Folder, then VS Code's folder dialog), replicates to it with a progress notification, and the view then
// says the rule is met. Screenshots of both states.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const {
  waitForWorkbench,
  waitForLocator,
  runCommand,
  answerInputBox,
  waitForNotification,
  settleNotifications,
  acceptQuickPick,
  answerSaveDialog,
  treeItem,
  moveMouseAway,
  waitUntil,
} = require('./workbench');

/** Snapshot Workspace asks for an optional label before it snapshots. */
const LABEL_PROMPT = /^Label for this snapshot/;

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'backup-health',
  title: 'Backup Health shows the 3-2-1 gaps, and one click on the offsite gap adds a destination and meets the rule',
  timeout: 240_000,
  async run({ page, step, screenshot, log, folders }) {
    const workspace = folders[0];
    const destination = path.join(path.dirname(workspace), 'offsite-copy');
    fs.mkdirSync(destination, { recursive: true });
    await waitForWorkbench(page);

    // 1. A first snapshot, as a user takes it.
    step('1. A first snapshot, as a user takes it');
    await runCommand(page, 'Backup: Snapshot Workspace');
    await answerInputBox(page, LABEL_PROMPT);
    await waitForNotification(page, /^Snapshot [0-9a-f]{6,}\b/, { failOn: /failed/i });
    await settleNotifications(page);

    // 2. The health view: rule not met, gaps with their fixes.
    step('2. The health view');
    await runCommand(page, 'Backup: Show Backup Health');
    const summary = treeItem(page, 'Backup Health', /^3-2-1 rule not met/);
    await waitForLocator(summary, 'the health view to say "3-2-1 rule not met"');
    const offsiteGap = treeItem(page, 'Backup Health', /^No offsite copy/);
    await waitForLocator(offsiteGap, 'the "No offsite copy" gap');
    log(`summary: ${await summary.getAttribute('aria-label')}`);
    // Give the health view the side bar, as a user reading it would: collapse the two views above it.
    for (const title of ['Snapshots', 'File History']) {
      const header = page.locator('.pane-header', { hasText: title }).first();
      if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
    }
    // ...and a wider side bar, so the rows are read whole: drag its edge.
    const bar = await page.locator('.part.sidebar').boundingBox();
    if (bar) {
      await page.mouse.move(bar.x + bar.width + 1, bar.y + bar.height / 2);
      await page.mouse.down();
      await page.mouse.move(bar.x + bar.width + 260, bar.y + bar.height / 2, { steps: 8 });
      await page.mouse.up();
    }
    await moveMouseAway(page);
    await waitUntil(
      async () => (await page.locator('.monaco-sash.hover, .monaco-sash.active').count()) === 0,
      "the sash's hover highlight to fade",
    );
    await screenshot('backup-health-gaps');

    // 3. One click on the offsite gap: Folder, the folder dialog, then replication with progress.
    step('3. One click on the offsite gap');
    await offsiteGap.click();
    // With the offsite preset the remote choices come first: type to pick Folder, as a user would.
    const input = page.locator('.quick-input-widget input.input');
    await waitForLocator(input, 'the destination kind pick');
    await input.fill('Folder');
    const pick = await acceptQuickPick(page, 'Folder');
    log(`asked: ${pick.placeholder}`);
    const dialog = await answerSaveDialog(page, destination);
    if (dialog.button !== 'Copy Backups Here')
      throw new Error(`the folder dialog's button says "${dialog.button}", expected "Copy Backups Here"`);
    log(
      `folder dialog: "${dialog.title}", button "${dialog.button}"${dialog.enterAgain ? '; Enter pressed twice' : ''}${dialog.relisted ? `; folder put in the box ${dialog.relisted + 1} times` : ''}${dialog.retyped ? `; path put in the box ${dialog.retyped + 1} times` : ''}`,
    );
    const text = await waitForNotification(page, /^Replicated to 1 destination/, { failOn: /failed/i });
    log(`notification: ${text}`);
    if (!fs.existsSync(path.join(destination, 'config'))) throw new Error(`no store was written to ${destination}`);

    // 4. The view now says the rule is met.
    step('4. The view now says the rule is met');
    const met = treeItem(page, 'Backup Health', /^3-2-1 rule met/);
    await waitUntil(async () => (await met.count()) > 0, 'the health view to say "3-2-1 rule met"');
    log(`summary: ${await met.first().getAttribute('aria-label')}`);
    await settleNotifications(page);
    await moveMouseAway(page);
    await screenshot('backup-health-met');
  },
};
