// "Backup: Export Full Archive..." from the command palette, as a user runs it: the command snapshots the
// workspace, then VS Code's save dialog asks where to write (in code-server the "simple file dialog", a quick
// input holding a path: select all, type the full path, Enter; confirm replacing if asked), a progress
// notification runs, and "Exported N files (size) to workspace-full.zip." reports it. The archive must be on
// disk, a zip whose central directory lists the workspace's files by their workspace-relative paths.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const {
  waitForWorkbench,
  waitForLocator,
  runCommand,
  answerSaveDialog,
  waitForNotification,
  settleNotifications,
  moveMouseAway,
  waitUntil,
} = require('./workbench');

const ARCHIVE = 'workspace-full.zip';

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'export-archive',
  title: 'Backup: Export Full Archive from the palette writes a zip through the save dialog and reports it',
  async run({ page, step, screenshot, log, folders }) {
    const workspace = folders[0];
    // The run's temp folder for this scenario (beside the workspace copy, so the archive is not in the workspace).
    const target = path.join(path.dirname(workspace), ARCHIVE);
    const expected = listFiles(workspace);
    await waitForWorkbench(page);

    // 1. The command snapshots the workspace, then opens the save dialog.
    step('1. The command snapshots the workspace, then opens the save dialog');
    await runCommand(page, 'Backup: Export Full Archive...');
    const dialog = await answerSaveDialog(page, target);
    log(
      `save dialog: "${dialog.title}", button "${dialog.button}", proposed ${dialog.proposed}${dialog.overwrite ? `; confirmed "${dialog.overwrite}"` : ''}${dialog.enterAgain ? '; Enter pressed twice' : ''}${dialog.relisted ? `; folder put in the box ${dialog.relisted + 1} times` : ''}${dialog.retyped ? `; path put in the box ${dialog.retyped + 1} times` : ''}`,
    );
    if (!/^Export a full archive of workspace\b/.test(dialog.title))
      throw new Error(
        `the save dialog's title is "${dialog.title}", expected "Export a full archive of workspace ..."`,
      );

    // 2. The progress notification, then the report.
    step('2. The progress notification, then the report');
    const text = await waitForNotification(page, /^Exported \d+/, { failOn: /failed|cancelled/i });
    log(`notification: ${text}`);
    const reported = text.match(/^Exported (\d+) files? \(([^)]+)\) to (.+)\.$/);
    if (!reported) throw new Error(`the notification does not read "Exported N files (size) to name.": ${text}`);
    if (reported[3] !== ARCHIVE) throw new Error(`the notification names ${reported[3]}, expected ${ARCHIVE}`);
    await waitUntil(
      async () =>
        (await page.locator('.notifications-toasts .notification-list-item', { hasText: 'Exporting' }).count()) === 0,
      'the "Exporting full archive" progress notification to close',
    );

    // 3. The archive on disk lists the workspace's files.
    step("3. The archive on disk lists the workspace's files");
    if (!fs.existsSync(target)) throw new Error(`no archive at ${target}`);
    const entries = zipEntries(target);
    const names = entries.map((e) => e.name);
    const listed = unzipList(target);
    log(
      `archive: ${target} (${fs.statSync(target).size} bytes), ${entries.length} entries${listed ? ', unzip -l agrees' : ''}`,
    );
    if (listed && listed.join('\n') !== names.join('\n'))
      throw new Error(`unzip -l lists ${listed.join(', ')}; the central directory ${names.join(', ')}`);
    if (!names.includes('src/index.js')) throw new Error(`the archive does not list src/index.js: ${names.join(', ')}`);
    const missing = expected.filter((f) => !names.includes(f));
    if (missing.length) throw new Error(`the archive lacks ${missing.join(', ')} (it lists ${names.join(', ')})`);
    const files = entries.filter((e) => !e.name.endsWith('/'));
    if (Number(reported[1]) !== files.length)
      throw new Error(`the notification reports ${reported[1]} files, the archive holds ${files.length}`);
    const index = entries.find((e) => e.name === 'src/index.js');
    const size = fs.statSync(path.join(workspace, 'src', 'index.js')).size;
    if (index.size !== size) throw new Error(`src/index.js is ${index.size} bytes in the archive, ${size} on disk`);

    await moveMouseAway(page);
    await settleNotifications(page);
    await waitForLocator(
      page.locator('.notifications-toasts .notification-list-item-message', { hasText: /^\s*Exported \d+/ }).first(),
      'the "Exported" notification',
    );
    await screenshot('export-archive');
  },
};

/** The workspace's files, relative, with "/" (what a full archive must hold). */
function listFiles(root, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Names and uncompressed sizes from a zip's central directory (no zip64: these archives are small). */
function zipEntries(file) {
  const data = fs.readFileSync(file);
  const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || data.length - eocd < 22) throw new Error(`${file} is not a zip: no end of central directory record`);
  const count = data.readUInt16LE(eocd + 10);
  let at = data.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: central directory entry ${i} is damaged`);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    entries.push({ name: data.toString('utf8', at + 46, at + 46 + nameLength), size: data.readUInt32LE(at + 24) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The names `unzip -l` lists, or undefined when unzip is not installed. */
function unzipList(file) {
  const run = spawnSync('unzip', ['-l', file], { encoding: 'utf8' });
  if (run.error && run.error.code === 'ENOENT') return undefined;
  if (run.status !== 0) throw new Error(`unzip -l ${file} failed (${run.status}): ${run.stderr || run.stdout}`);
  // Rows: "  Length      Date    Time    Name", between two dashed lines.
  const lines = run.stdout.split('\n');
  const first = lines.findIndex((l) => /^-{4,}/.test(l.trim()));
  const last = lines.findIndex((l, i) => i > first && /^-{4,}/.test(l.trim()));
  return lines.slice(first + 1, last).map((l) => l.trim().split(/\s+/).slice(3).join(' '));
}
