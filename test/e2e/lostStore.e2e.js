// The local store deleted (#12), as a user lives it in the real workbench: a project backed up to a folder
// destination (and, in the second scenario, to an SFTP server: the real OpenSSH test server, added through
// the UI with its host key read for longer than the old 20 s timeout before Trust), then the store folder
// deleted and the project damaged. The views say the store is missing and point at the destination; "Browse
// and restore from ..." in the Snapshots view, then Restore Snapshot, brings the store back from the
// destination (the whole history, the same store id) and restores with an undo snapshot, in one flow. The
// files come back byte for byte, an edit saved afterwards is snapshotted into the store that came back, and
// the destination keeps receiving copies. Screenshots of each step.
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
  answerSaveDialog,
  settleNotifications,
  moveMouseAway,
  waitUntil,
  sleep,
  scaled,
} = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const LABEL_PROMPT = /^Label for this snapshot/;
/** How long the user reads the host key before trusting it: longer than the handshake limit (20 s). */
const READING_THE_FINGERPRINT_MS = 25_000;

/** Clears the notification toasts, so the next wait sees only new ones. */
async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await waitUntil(
    async () => (await page.locator('.notifications-toasts .notification-list-item').count()) === 0,
    'the notifications to clear',
  );
}

/** Every file under `dir` (relative path -> bytes). */
function readFiles(dir) {
  const files = new Map();
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, name);
    if (fs.lstatSync(full).isFile()) files.set(name.split(path.sep).join('/'), fs.readFileSync(full));
  }
  return files;
}

function differences(expected, actual) {
  const out = [];
  for (const [name, bytes] of expected)
    if (!actual.has(name)) out.push(`missing ${name}`);
    else if (!actual.get(name).equals(bytes)) out.push(`differs ${name}`);
  for (const name of actual.keys()) if (!expected.has(name)) out.push(`extra ${name}`);
  return out;
}

/** The store id in a (plain) store's config, and its snapshot record names. */
function storeOf(dir) {
  return {
    id: JSON.parse(fs.readFileSync(path.join(dir, 'config'), 'utf8')).id,
    snapshots: fs
      .readdirSync(path.join(dir, 'snapshots'))
      .filter((n) => /^[0-9a-f]{32}$/.test(n))
      .sort(),
  };
}

/** The SFTP test server (test/unit/helpers/sshd.ts, compiled with the tests). */
async function startSshd() {
  const compiled = path.join(REPO_ROOT, 'out', 'test', 'unit', 'helpers', 'sshd.js');
  if (!fs.existsSync(compiled))
    throw new Error(
      `${path.relative(REPO_ROOT, compiled)} is missing: compile the tests first (npx tsc -p . --outDir out)`,
    );
  return require(compiled).startSshd();
}

/** Adds a folder destination through Add Backup Destination: kind, folder dialog, onsite. */
async function addFolderDestination(page, destination, log) {
  await runCommand(page, 'Backup: Add Backup Destination...');
  await acceptQuickPick(page, 'Folder');
  const dialog = await answerSaveDialog(page, destination);
  log(`folder dialog: "${dialog.title}", button "${dialog.button}"`);
  await acceptQuickPick(page, 'Onsite');
}

/**
 * Adds the SFTP server through Add Backup Destination: kind, location, key file, offsite; then the host-key
 * question, read for longer than the handshake limit before Trust. Screenshot of the question.
 */
async function addSftpDestination(page, server, url, { log, screenshot, step }) {
  await runCommand(page, 'Backup: Add Backup Destination...');
  const input = page.locator('.quick-input-widget input.input');
  await waitForLocator(input, 'the destination kind pick');
  await input.fill('SFTP');
  await acceptQuickPick(page, 'SFTP server');
  await answerInputBox(page, /^SFTP location of the copy/, { text: url });
  await acceptQuickPick(page, 'Private key file');
  await answerInputBox(page, /^Private key file/, { text: server.keyFile });
  await acceptQuickPick(page, 'Offsite');
  step('the host key question');
  const dialog = page.locator('.monaco-dialog-box');
  await waitForLocator(dialog, "the question to trust the server's host key");
  const question = ((await dialog.textContent()) || '').replace(/\s+/g, ' ').trim();
  log(`asked: ${question}`);
  if (!question.includes(server.hostKeyFingerprint))
    throw new Error(`the question does not show the server's fingerprint ${server.hostKeyFingerprint}`);
  await screenshot('lost-store-sftp-0-trust-host-key');
  // A user who compares the fingerprint with the one the administrator gave: longer than the old 20 s limit.
  await sleep(READING_THE_FINGERPRINT_MS);
  const failed = (await page.locator('.notifications-toasts .notification-list-item-message').allTextContents()).find(
    (t) => /failed/i.test(t),
  );
  if (failed) throw new Error(`while the question was open: ${failed}`);
  await dialog.locator('.monaco-button', { hasText: /^Trust$/ }).click();
}

/**
 * One scenario: back up to a destination, lose the store, restore from the destination in one flow, go on.
 * @param {'folder' | 'sftp'} kind
 */
function scenario(kind) {
  const shot = (n, what) => `lost-store-${kind}-${n}-${what}`;
  /** @type {import('./scenario').Scenario} */
  return {
    name: `lost-store-${kind}`,
    title: `the local store deleted, the project restored from ${kind === 'sftp' ? 'an SFTP' : 'a folder'} destination through the UI in one flow, backups resuming with the full history`,
    timeout: 420_000,
    async run({ page, step, screenshot, log, folders }) {
      const workspace = folders[0];
      const root = path.dirname(workspace);
      // A store of this scenario's own (the workspace's setting wins), so deleting it touches no other scenario.
      const store = path.join(root, 'store');
      fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
      fs.writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        `${JSON.stringify({ 'projectBackup.storePath': store }, null, 2)}\n`,
      );
      let server;
      let destination;
      let destinationDir;
      if (kind === 'sftp') {
        server = await startSshd();
        destinationDir = path.join(server.folder('laptop'), 'backups');
        destination = server.url(destinationDir);
      } else {
        destination = destinationDir = path.join(root, 'usb-drive', 'backups');
        fs.mkdirSync(destination, { recursive: true });
      }
      const name = kind === 'sftp' ? '127.0.0.1' : 'backups';
      try {
        await waitForWorkbench(page);

        step('1. Back up: a snapshot, the destination added through the UI, a second snapshot, replicated');
        await runCommand(page, 'Backup: Snapshot Workspace');
        await answerInputBox(page, LABEL_PROMPT, { text: 'before the loss' });
        await waitForNotification(page, /^Snapshot [0-9a-f]{8}\b/, { failOn: /failed/i });
        if (kind === 'sftp') await addSftpDestination(page, server, destination, { log, screenshot, step });
        else await addFolderDestination(page, destination, log);
        const first = await waitForNotification(page, /^Replicated to 1 destination: /, {
          failOn: /failed/i,
          timeout: scaled(120_000),
        });
        log(`first copy: ${first}`);
        if (
          !/^Replicated to 1 destination: [1-9]\d* objects? copied \([^)]+\); [1-9]\d* snapshots? there now\.$/.test(
            first,
          )
        )
          throw new Error(`the first copy does not report what it copied: ${first}`);
        fs.writeFileSync(path.join(workspace, 'docs', 'plan.md'), '# Plan\n\nWritten before the store was lost.\n');
        await runCommand(page, 'Backup: Snapshot Workspace');
        await answerInputBox(page, LABEL_PROMPT, { text: 'second' });
        await waitForNotification(page, /^Snapshot [0-9a-f]{8}\b/, { failOn: /failed/i });
        await clearNotifications(page);
        await runCommand(page, 'Backup: Replicate to Destinations Now');
        log(
          `second copy: ${await waitForNotification(page, /^Replicated to 1 destination: .*; [2-9]\d* snapshots there now\.$/, { failOn: /failed/i, timeout: scaled(120_000) })}`,
        );
        const expected = readFiles(workspace);
        const copied = storeOf(destinationDir);
        log(`destination holds ${copied.snapshots.length} snapshots of store ${copied.id.slice(0, 8)}`);

        step('2. The loss: the store folder deleted, the project damaged');
        fs.rmSync(store, { recursive: true, force: true });
        fs.rmSync(path.join(workspace, 'src'), { recursive: true, force: true });
        fs.writeFileSync(path.join(workspace, 'README.md'), 'overwritten by mistake\n');

        step('3. The views say the store is missing and point at the destination');
        await openViewContainer(page, 'Backups');
        await waitForView(page, 'Snapshots');
        await runCommand(page, 'Backup: Refresh');
        await waitForLocator(
          treeItem(page, 'Snapshots', /^The backup store is missing\b/),
          'the Snapshots view to say the store is missing',
        );
        const browseRow = treeItem(
          page,
          'Snapshots',
          new RegExp(`^Browse and restore from ${name.replace(/\./g, '\\.')}`),
        );
        await waitForLocator(browseRow, 'the row that browses the destination');
        await runCommand(page, 'Backup: Show Backup Health');
        await waitForLocator(
          treeItem(page, 'Backup Health', /^Local store missing/),
          'Backup Health to say the local store is missing',
        );
        await waitForLocator(
          treeItem(page, 'Backup Health', new RegExp(`holds a copy: ${copied.snapshots.length} snapshots`)),
          'Backup Health to show the copy at the destination',
        );
        await waitForLocator(
          page.locator('.statusbar-item', { hasText: 'Backup store missing' }).first(),
          'the status bar to say the store is missing',
        );
        if (fs.existsSync(store)) throw new Error('something re-created the deleted store');
        await moveMouseAway(page);
        await settleNotifications(page);
        await screenshot(shot(1, 'store-missing'));
        await clearNotifications(page);

        step('4. Browse and restore from the destination (a row of the Snapshots view)');
        await browseRow.click();
        // (A "Backup failed: ... missing" toast from a save or a watcher event may come meanwhile: that is the state.)
        log(
          await waitForNotification(page, /^Now showing \d+ snapshots? of/, {
            failOn: /^Use destination failed/,
            timeout: scaled(90_000),
          }),
        );
        await expandTreeItem(treeItem(page, 'Snapshots', /^Today\b/));
        const second = treeItem(page, 'Snapshots', /second/);
        await waitForLocator(second, 'the snapshot "second" from the destination');
        await moveMouseAway(page);
        await screenshot(shot(2, 'browsing-destination'));

        step('5. Restore Snapshot: first the offer to bring the store back');
        await clickInlineAction(page, second, 'Restore Snapshot');
        const widget = page.locator('.quick-input-widget');
        await waitForLocator(
          widget.locator('.quick-input-list .monaco-list-row.focused'),
          'the offer to bring the store back',
        );
        await screenshot(shot(3, 'bring-back-offer'));
        const offer = await acceptQuickPick(page, 'Bring the store back, then restore');
        log(`offer: ${offer.placeholder} | ${offer.rows.join(' | ')}`);

        step('6. The restore preview, after the store came back');
        await waitForLocator(
          widget.locator('.quick-input-title', { hasText: /^Restore snapshot/ }),
          'the restore preview',
          { timeout: scaled(120_000) },
        );
        await waitForLocator(widget.locator('.quick-input-list .monaco-list-row.focused'), "the preview's Restore row");
        await screenshot(shot(4, 'restore-preview'));
        const preview = await acceptQuickPick(page, 'Restore');
        log(`preview: ${preview.title} | ${preview.rows.slice(0, 6).join(' | ')}`);
        const restored = await waitForNotification(page, /^Restored \d+ files? from snapshot/, {
          failOn: /^Restore Snapshot failed|could not be restored/,
        });
        log(restored);
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Restored' }).first();
        await waitForLocator(
          toast.locator('.monaco-button', { hasText: 'Undo' }),
          'the Undo button on the restore notification',
        );
        await moveMouseAway(page);
        await screenshot(shot(5, 'restored'));

        step('7. The files are back byte for byte; the store is back whole, under the same id');
        const diff = differences(expected, readFiles(workspace));
        if (diff.length) throw new Error(`the workspace differs from the snapshot: ${diff.join(', ')}`);
        const back = storeOf(store);
        if (back.id !== copied.id) throw new Error(`the store came back as ${back.id}, not ${copied.id}`);
        const lost = copied.snapshots.filter((s) => !back.snapshots.includes(s));
        if (lost.length) throw new Error(`${lost.length} snapshots of the history did not come back`);
        log(
          `store back: ${back.snapshots.length} snapshots (${copied.snapshots.length} from the destination, then the undo snapshot)`,
        );

        step('8. Backups go on: an edit saved in the editor is snapshotted; the destination receives it');
        await openFile(page, 'src/index.js');
        await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type('// after the store came back');
        await page.keyboard.press('Control+S');
        await waitUntil(
          () => storeOf(store).snapshots.length > back.snapshots.length,
          'the on-save snapshot in the store that came back',
          { timeout: scaled(60_000) },
        );
        // Its row, or the work session that now holds it (the timeline groups snapshots close in time).
        await waitForLocator(
          treeItem(page, 'Snapshots', /on save|\d+ snapshots/).first(),
          'the on-save snapshot (or its session) in the Snapshots view',
        );
        await clearNotifications(page);
        await runCommand(page, 'Backup: Replicate to Destinations Now');
        const again = await waitForNotification(page, /^Replicated to 1 destination: /, {
          failOn: /^Replication to .* failed|holds another backup store/,
          timeout: scaled(120_000),
        });
        log(`after: ${again}`);
        const latest = storeOf(store).snapshots.filter((s) => !back.snapshots.includes(s));
        const received = storeOf(destinationDir).snapshots;
        if (!latest.every((s) => received.includes(s)))
          throw new Error('the destination did not receive the snapshots made after the store came back');
        await waitUntil(
          async () => (await page.locator('.statusbar-item', { hasText: 'Backup store missing' }).count()) === 0,
          'the status bar to stop saying the store is missing',
        );
        await runCommand(page, 'Backup: Show Backup Health');
        // Health folds its copies away when all is well: its summary is there, and nothing says the store is missing.
        await waitForLocator(treeItem(page, 'Backup Health', /3-2-1|cop(y|ies)/i).first(), "Backup Health's summary");
        await waitUntil(
          async () => (await treeItem(page, 'Backup Health', /missing/i).count()) === 0,
          'Backup Health to stop saying the store is missing',
        );
        await settleNotifications(page);
        await moveMouseAway(page);
        await screenshot(shot(6, 'backups-go-on'));
      } finally {
        await server?.stop();
      }
    },
  };
}

module.exports = [scenario('folder'), scenario('sftp')];
