// A day with 50 snapshots, as a user meets it in the Snapshots view (#14): three work sessions, each one row
// ("08:00–08:38 · 20 snapshots · 4 files"), and the labelled, pinned and restore moments on their own, so
// the day reads at a glance instead of as 50 rows; the day before is collapsed. The history is made before
// the window opens, through the store's injectable clock (core Repository `now`), so the times are real
// times of yesterday whatever hour the test runs.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const {
  waitForWorkbench,
  waitForView,
  openViewContainer,
  treeItem,
  waitForLocator,
  expandTreeItem,
  moveMouseAway,
  waitUntil,
} = require('./workbench');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(REPO_ROOT, 'out', 'src', 'core');

function core(module) {
  const file = path.join(OUT, `${module}.js`);
  if (!fs.existsSync(file))
    throw new Error(`${path.relative(REPO_ROOT, file)} missing: compile first with  npx tsc -p . --outDir out`);
  return require(file);
}

/** Local time on the day `daysAgo` days before today. */
function at(daysAgo, hours, minutes) {
  const d = new Date();
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - daysAgo, hours, minutes, 0);
}

/** @type {import('./scenario').Scenario} */
module.exports = {
  name: 'timeline-day',
  title: 'A day of 50 snapshots reads as three sessions and its notable moments, without scrolling through 50 rows',
  timeout: 180_000,
  async prepare({ folders, storePath }) {
    const { Repository } = core('repository/repository');
    const { Snapshotter } = core('snapshot/snapshotter');
    const folder = folders[0];
    let clock = at(2, 16, 0);
    const repo = await Repository.open(storePath, { create: true, now: () => clock });
    const snapshotter = new Snapshotter(repo, { workspace: folder, git: false });
    const files = ['src/index.js', 'src/lib/math.js', 'src/lib/format.js', 'docs/notes.md'];
    let n = 0;
    const edit = async (time, request = {}) => {
      clock = time;
      const rel = files[n++ % files.length];
      fs.appendFileSync(path.join(folder, ...rel.split('/')), `// edit ${n}\n`);
      await snapshotter.snapshot({ trigger: 'save', paths: [rel], ...request });
    };
    // The day before yesterday: a first snapshot and two saves (collapsed in the view).
    await snapshotter.snapshot({ trigger: 'manual' });
    await edit(at(2, 16, 5));
    await edit(at(2, 16, 9));
    // Yesterday: 50 snapshots.
    for (let i = 0; i < 20; i++) await edit(at(1, 8, i * 2)); // 08:00–08:38
    await edit(at(1, 9, 5), { autoLabel: 'before switching to main' });
    for (let i = 0; i < 14; i++) await edit(at(1, 10, 30 + i * 2)); // 10:30–10:56
    await edit(at(1, 11, 10), { label: 'release candidate', pinned: true });
    for (let i = 0; i < 13; i++) await edit(at(1, 14, i * 2), { trigger: i % 3 === 0 ? 'external' : 'save' }); // 14:00–14:24
    await edit(at(1, 16, 40), { trigger: 'pre-restore', autoLabel: 'before restoring src/lib/ from 14:24:00' });
    await repo.close();
  },

  async run({ page, step, screenshot, log }) {
    step('the workbench to load');
    await waitForWorkbench(page);
    step('the Snapshots view');
    await openViewContainer(page, 'Backups');
    await waitForView(page, 'Snapshots');
    const yesterday = treeItem(page, 'Snapshots', /^Yesterday\b/);
    await waitForLocator(yesterday, 'Yesterday in the Snapshots view');
    await expandTreeItem(yesterday);
    log(`day: ${await yesterday.getAttribute('aria-label')}`);
    if ((await yesterday.getAttribute('aria-label')) !== 'Yesterday, 50 snapshots')
      throw new Error('Yesterday does not say 50 snapshots');

    step('the sessions and the notable moments');
    const expected = [
      /^16:40:00\s+before restoring src\/lib\/ from 14:24:00/,
      /^14:00–14:24, 13 snapshots · 4 files$/,
      /^11:10:00\s+release candidate/,
      /^10:30–10:56, 14 snapshots · 4 files$/,
      /^09:05:00\s+before switching to main/,
      /^08:00–08:38, 20 snapshots · 4 files$/,
    ];
    for (const pattern of expected) await waitForLocator(treeItem(page, 'Snapshots', pattern), `the row ${pattern}`);
    const rows = await page
      .locator('.pane', { has: page.locator('.pane-header', { hasText: 'Snapshots' }) })
      .getByRole('treeitem')
      .evaluateAll((items) =>
        items.map((i) => `${'  '.repeat(Number(i.getAttribute('aria-level')) - 1)}${i.getAttribute('aria-label')}`),
      );
    for (const row of rows) log(`row: ${row}`);
    const dayRows = rows.filter((r) => /^ {2}\S/.test(r));
    if (dayRows.length !== 6) throw new Error(`Yesterday shows ${dayRows.length} rows, not 6`);
    const older = rows.find((r) => /^[A-Z][a-z]{2}, [A-Z][a-z]{2} \d+, 3 snapshots$/.test(r));
    if (!older) throw new Error('the day before yesterday is not listed');

    // The full text of a session is in its tooltip.
    const session = treeItem(page, 'Snapshots', /^08:00–08:38/);
    await session.hover();
    const hover = page
      .locator('.monaco-hover, .custom-hover, .workbench-hover')
      .filter({ hasText: /Work session/ })
      .first();
    await waitForLocator(hover, "the session's tooltip");
    log(`tooltip: ${((await hover.textContent()) || '').replace(/\s+/g, ' ').trim()}`);
    await screenshot('timeline-day-tooltip');
    await moveMouseAway(page);
    await waitUntil(async () => (await hover.count()) === 0 || !(await hover.isVisible()), 'the tooltip to close');
    await screenshot('timeline-day');
  },
};
