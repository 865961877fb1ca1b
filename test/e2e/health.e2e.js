// "Backup: Show Backup Health" as a user sees it: after a first snapshot the view says the 3-2-1 rule is not
// met and lists the gaps with their fixes; one click on "No offsite copy" asks where the copy goes
// (Folder, then VS Code's folder dialog), replicates to it with a progress notification, and the view then
// says the rule is met. Screenshots of both states.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { waitForWorkbench, runCommand, answerPromptIfAsked, waitForNotification, settleNotifications, acceptQuickPick, answerSaveDialog, treeItem, moveMouseAway, waitUntil } = require('./workbench');

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'backup-health',
  title: 'Backup Health shows the 3-2-1 gaps, and one click on the offsite gap adds a destination and meets the rule',
  timeout: 120_000,
  async run({ page, screenshot, log, folders }) {
    const workspace = folders[0];
    const destination = path.join(path.dirname(workspace), 'offsite-copy');
    fs.mkdirSync(destination, { recursive: true });
    await waitForWorkbench(page);

    // 1. A first snapshot, as a user takes it.
    await runCommand(page, 'Backup: Snapshot Workspace');
    await answerPromptIfAsked(page);
    await waitForNotification(page, /^Snapshot [0-9a-f]{6,}\b/, { failOn: /failed/i });
    await settleNotifications(page);

    // 2. The health view: rule not met, gaps with their fixes.
    await runCommand(page, 'Backup: Show Backup Health');
    const summary = treeItem(page, 'Backup Health', /^3-2-1 rule not met/);
    await summary.waitFor({ state: 'visible', timeout: 20_000 });
    const offsiteGap = treeItem(page, 'Backup Health', /^No offsite copy/);
    await offsiteGap.waitFor({ state: 'visible', timeout: 10_000 });
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
    await page.waitForTimeout(300); // the sash's hover highlight fades
    await screenshot('backup-health-gaps');

    // 3. One click on the offsite gap: Folder, the folder dialog, then replication with progress.
    await offsiteGap.click();
    // With the offsite preset the remote choices come first: type to pick Folder, as a user would.
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('Folder');
    const pick = await acceptQuickPick(page, 'Folder', { timeout: 10_000 });
    log(`asked: ${pick.placeholder}`);
    const dialog = await answerSaveDialog(page, destination, { timeout: 15_000 });
    if (dialog.button !== 'Copy Backups Here') throw new Error(`the folder dialog's button says "${dialog.button}", expected "Copy Backups Here"`);
    log(`folder dialog: "${dialog.title}", button "${dialog.button}"${dialog.enterAgain ? '; Enter pressed twice' : ''}${dialog.relisted ? `; folder put in the box ${dialog.relisted + 1} times` : ''}${dialog.retyped ? `; path put in the box ${dialog.retyped + 1} times` : ''}`);
    const text = await waitForNotification(page, /^Replicated to 1 destination/, { failOn: /failed/i, timeout: 45_000 });
    log(`notification: ${text}`);
    if (!fs.existsSync(path.join(destination, 'config'))) throw new Error(`no store was written to ${destination}`);

    // 4. The view now says the rule is met.
    const met = treeItem(page, 'Backup Health', /^3-2-1 rule met/);
    await waitUntil(async () => (await met.count()) > 0, 'the health view to say "3-2-1 rule met"', { timeout: 20_000 });
    log(`summary: ${await met.first().getAttribute('aria-label')}`);
    await settleNotifications(page);
    await moveMouseAway(page);
    await screenshot('backup-health-met');
  },
};
