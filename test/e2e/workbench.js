// Helpers that drive the real VS Code workbench UI through playwright, the way a user does: palette,
// notifications, views and trees, editors. Shared by every scenario in test/e2e/*.e2e.js.
// Selectors follow VS Code 1.99 (code-server 4.99.4).
//
// Every wait is for the thing the next step needs (a box, a row, a toast), never for a fixed time, and its
// limit is generous: on a loaded machine the workbench can take many seconds to show what a quiet one shows
// at once, and a wait returns as soon as the thing is there. PB_E2E_TIMEOUT_SCALE multiplies every limit.
// A wait that gives up says what it was waiting for.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const SCALE = Math.max(1, Number(process.env.PB_E2E_TIMEOUT_SCALE) || 1);
/** The limit for UI that must appear (a box, a row, a toast): generous, since waits end when it shows. */
const UI_TIMEOUT = 60_000 * SCALE;
/** The limit for the workbench itself to load (the slowest step on a loaded machine). */
const LOAD_TIMEOUT = 120_000 * SCALE;
/** Scales a scenario's own limit for something it knows to be slow. */
const scaled = (ms) => ms * SCALE;

/**
 * Waits for the workbench and the opened folder's files in the Explorer.
 * @param {import('playwright-core').Page} page
 */
async function waitForWorkbench(page, { timeout = LOAD_TIMEOUT, emptyFolder = false } = {}) {
  await waitForLocator(page.locator('.monaco-workbench'), 'the workbench to load', { timeout });
  if (emptyFolder) {
    // An empty folder lists nothing: its Explorer says so once the remote file system is connected.
    await waitForLocator(
      page.locator('.explorer-folders-view, .explorer-viewlet .welcome-view').first(),
      'the Explorer of the empty folder',
      { timeout, state: 'attached' },
    );
    return;
  }
  // The Explorer lists the workspace once the remote file system is connected.
  const rows = page.locator('.explorer-folders-view .monaco-list-row').first();
  const noFolder = page.locator('.explorer-viewlet .welcome-view').first();
  // Under heavy load code-server sometimes opens a multi-root workspace without its folders (the title names
  // the workspace, the Explorer says "no folder", the extension host starts with none): the workspace file
  // and its folders are there, so a user would reload the window. Do that, once, and say so.
  const first = await Promise.race([
    rows.waitFor({ state: 'visible', timeout }).then(() => 'rows'),
    noFolder.waitFor({ state: 'visible', timeout }).then(() => 'no folder'),
  ]).catch(() => 'timeout');
  if (first === 'no folder' && !(await rows.isVisible())) {
    await sleep(2000);
    if (!(await rows.isVisible())) {
      console.log('      (the workbench opened without the workspace folders; reloaded once)');
      await page.reload({ waitUntil: 'domcontentloaded', timeout });
      await waitForLocator(page.locator('.monaco-workbench'), 'the workbench to load again', { timeout });
    }
  }
  await waitForLocator(rows, 'the Explorer to list the workspace', { timeout });
}

/**
 * Waits until `locator` is in `state`; on timeout the error says what was awaited (playwright's own names
 * only the selector).
 * @param {import('playwright-core').Locator} locator
 */
async function waitForLocator(locator, what, { timeout = UI_TIMEOUT, state = 'visible' } = {}) {
  try {
    await locator.waitFor({ state, timeout });
  } catch (error) {
    throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`, { cause: error });
  }
  return locator;
}

/**
 * Waits for a view contributed by the extension: its pane header, e.g. waitForView(page, 'Snapshots').
 * @param {import('playwright-core').Page} page
 */
async function waitForView(page, title, { timeout = UI_TIMEOUT } = {}) {
  return waitForLocator(page.locator('.pane-header', { hasText: title }).first(), `the "${title}" view`, { timeout });
}

/**
 * Runs a command from the palette by its full title ("Category: Title"). The palette snapshots the command
 * list when it opens, so right after load it may not show the command yet: close it and try again.
 * @param {import('playwright-core').Page} page
 */
async function runCommand(page, title, { timeout = UI_TIMEOUT } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  const deadline = Date.now() + timeout;
  let offered = [];
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await waitForLocator(input, 'the command palette to open', { timeout: Math.max(1000, deadline - Date.now()) });
    await input.fill(`>${title}`);
    const row = widget.locator('.quick-input-list .monaco-list-row').first();
    let label = '';
    try {
      await row.waitFor({ state: 'visible', timeout: Math.min(3000 * attempt, 15_000) });
      label = ((await row.locator('.label-name').first().textContent({ timeout: 5000 })) || '')
        .replace(/\s+/g, ' ')
        .trim();
    } catch {
      // not listed yet
    }
    if (label === title) {
      // Run it once, never again: a retry after this point could run the command twice.
      await page.keyboard.press('Enter');
      return;
    }
    offered = label ? [label] : [];
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) break;
    await sleep(Math.min(500 * attempt, 3000));
  }
  throw new Error(
    `the command palette never offered "${title}" within ${timeout / 1000} s (its first row: ${offered.length ? JSON.stringify(offered[0]) : 'none'}): is the extension installed and activated?`,
  );
}

/**
 * Waits for the input box a command asks with (e.g. Snapshot Workspace's optional label), checks that its
 * prompt or placeholder matches `prompt`, types `text` when given, and presses Enter. The box must come:
 * a command that asks, asks every time, so a box that does not appear is a failure that says which box.
 * Returns the prompt it answered.
 * @param {import('playwright-core').Page} page
 * @param {RegExp} prompt
 */
async function answerInputBox(page, prompt, { text, timeout = UI_TIMEOUT } = {}) {
  const widget = page.locator('.quick-input-widget');
  const shownPrompt = async () => {
    if (!(await widget.isVisible().catch(() => false))) return undefined;
    const message = (
      (await widget
        .locator('.quick-input-message')
        .textContent()
        .catch(() => '')) || ''
    ).trim();
    const placeholder =
      (await widget
        .locator('input.input')
        .getAttribute('placeholder')
        .catch(() => '')) || '';
    const title = (
      (await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => '')) || ''
    ).trim();
    return [message, placeholder, title].find((t) => t && prompt.test(t));
  };
  const shown = await waitUntil(shownPrompt, `the input box ${prompt}`, { timeout });
  if (text !== undefined) await widget.locator('input.input').fill(text);
  await page.keyboard.press('Enter');
  // Closed, or showing the command's next question already (the widget is reused and may never be seen hidden).
  await waitUntil(async () => !(await shownPrompt()), `the input box ${prompt} to close after Enter`, { timeout });
  return shown;
}

/** Texts of the visible notification toasts. */
async function notificationTexts(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/**
 * Waits for a notification toast whose text matches `pattern`; fails early on one matching `failOn`.
 * @param {import('playwright-core').Page} page
 * @param {RegExp} pattern
 * @returns {Promise<string>} the notification's text
 */
async function waitForNotification(page, pattern, { failOn, timeout = UI_TIMEOUT } = {}) {
  const deadline = Date.now() + timeout;
  let texts = [];
  while (Date.now() < deadline) {
    texts = (await notificationTexts(page)).map((t) => t.trim());
    const hit = texts.find((t) => pattern.test(t));
    if (hit) {
      await settleNotifications(page);
      return hit;
    }
    const failure = failOn && texts.find((t) => failOn.test(t));
    if (failure) throw new Error(`notification: ${failure}`);
    await sleep(200);
  }
  throw new Error(
    `no notification matching ${pattern} within ${timeout / 1000} s (visible: ${texts.length ? texts.map((t) => JSON.stringify(t)).join(', ') : 'none'})`,
  );
}

/**
 * Lets the toasts come to rest before a screenshot: progress toasts (withProgress) closed, slide-in done.
 * @param {import('playwright-core').Page} page
 */
async function settleNotifications(page, { timeout = scaled(10_000) } = {}) {
  await page
    .waitForFunction(() => !document.querySelector('.notifications-toasts .monaco-progress-container.active'), null, {
      timeout,
    })
    .catch(() => {});
  await page
    .locator('.notifications-toasts')
    .evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)))
    .catch(() => {});
  await sleep(250);
}

/**
 * A tree item inside a view's pane (e.g. a snapshot in the extension's sidebar tree).
 * @param {import('playwright-core').Page} page
 */
function treeItem(page, viewTitle, name) {
  return page
    .locator('.pane', { has: page.locator('.pane-header', { hasText: viewTitle }) })
    .getByRole('treeitem', { name });
}

/**
 * Waits for a diff editor with its changes rendered (before a screenshot of "Compare with Current").
 * @param {import('playwright-core').Page} page
 */
async function waitForDiffEditor(page, { timeout = UI_TIMEOUT } = {}) {
  const diff = page.locator('.monaco-diff-editor').first();
  await waitForLocator(diff, 'a diff editor', { timeout });
  await waitForLocator(
    diff.locator('.line-insert, .char-insert, .line-delete, .char-delete').first(),
    'the diff editor to mark its changes',
    { timeout, state: 'attached' },
  );
  return diff;
}

/** Opens a workspace file through Quick Open (Ctrl+P), by its path relative to the folder. */
async function openFile(page, relativePath) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await waitForLocator(input, 'Quick Open');
  await input.fill(relativePath);
  await waitForLocator(
    page.locator('.quick-input-list .monaco-list-row').first(),
    `Quick Open to list ${relativePath}`,
  );
  await page.keyboard.press('Enter');
  await waitForLocator(page.locator('.editor-instance .monaco-editor').first(), `an editor on ${relativePath}`);
}

/**
 * Opens a view container from the activity bar by its title (e.g. 'Backups'). Clicking the icon of the
 * container that is already showing would close the side bar, so it is clicked only when not showing.
 * @param {import('playwright-core').Page} page
 */
async function openViewContainer(page, title, { timeout = UI_TIMEOUT } = {}) {
  const link = page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title}"]`).first();
  await waitForLocator(link, `the "${title}" icon in the activity bar`, { timeout });
  const item = link.locator('xpath=..');
  const showing = async () => (await item.getAttribute('class'))?.split(/\s+/).includes('checked');
  if (!(await showing())) await link.click();
  const deadline = Date.now() + timeout;
  while (!(await showing())) {
    if (Date.now() > deadline) throw new Error(`the "${title}" view container did not open`);
    await sleep(100);
  }
  await waitForLocator(
    page.locator('.part.sidebar .composite.title', { hasText: title }).first(),
    `the "${title}" side bar`,
    { timeout },
  );
}

/**
 * Expands a tree item (a day, a snapshot, a folder) unless it is expanded already, and waits until it is.
 * Only for items without a command of their own: a click on a file version runs its command.
 * @param {import('playwright-core').Locator} item  e.g. treeItem(page, 'Snapshots', /^Today/)
 */
async function expandTreeItem(item, { timeout = UI_TIMEOUT } = {}) {
  await waitForLocator(item, `tree item ${item}`, { timeout });
  if ((await item.getAttribute('aria-expanded')) === 'true') return item;
  await item.locator('.monaco-tl-twistie').click();
  const deadline = Date.now() + timeout;
  while ((await item.getAttribute('aria-expanded')) !== 'true') {
    if (Date.now() > deadline) throw new Error(`tree item ${await item.getAttribute('aria-label')} did not expand`);
    await sleep(100);
  }
  return item;
}

/**
 * Clicks one of a tree item's inline actions (the icons shown on hover), by the command's title.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Locator} item
 */
async function clickInlineAction(page, item, title, { timeout = UI_TIMEOUT } = {}) {
  await waitForLocator(item, `tree item ${item}`, { timeout });
  await item.hover();
  const action = item
    .locator('.actions .action-label')
    .and(page.locator(`[aria-label="${title}"]`))
    .first();
  await waitForLocator(action, `the inline action "${title}"`, { timeout });
  await action.click();
  await moveMouseAway(page);
}

/** Parks the mouse on the empty part of the activity bar, so no hover or tooltip covers a screenshot. */
async function moveMouseAway(page) {
  const box = await page.locator('.part.activitybar').boundingBox();
  if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.6);
}

/**
 * Waits for a quick pick (e.g. the restore preview), checks that its focused row starts with `expectLabel`
 * and accepts it with Enter. Returns what the pick showed: title, placeholder and rows.
 * @param {import('playwright-core').Page} page
 */
async function acceptQuickPick(page, expectLabel, { timeout = UI_TIMEOUT } = {}) {
  const widget = page.locator('.quick-input-widget');
  await waitForLocator(widget, `a quick pick offering "${expectLabel}"`, { timeout });
  const focused = widget.locator('.quick-input-list .monaco-list-row.focused').first();
  await waitForLocator(focused, `the quick pick's focused row ("${expectLabel}")`, { timeout });
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const shown = {
    title: clean(
      await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => ''),
    ),
    placeholder:
      (await widget
        .locator('input.input')
        .getAttribute('placeholder')
        .catch(() => '')) || '',
    rows: (
      await widget.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('.label-name, .label-description, .quick-input-list-separator')]
            .map((e) => e.textContent)
            .filter(Boolean)
            .join(' · '),
        ),
      )
    ).map(clean),
    focused: clean(await focused.locator('.label-name').first().textContent()),
  };
  if (!shown.focused.startsWith(expectLabel))
    throw new Error(
      `the quick pick's focused row is "${shown.focused}", expected "${expectLabel}" (rows: ${shown.rows.join(' | ')})`,
    );
  await page.keyboard.press('Enter');
  // The pick is done when the widget closes, or when it shows the next question instead (a command that asks
  // again, e.g. a folder dialog after "Folder", reuses the widget, and may never be seen hidden in between).
  const gone = async () => {
    if (!(await widget.isVisible().catch(() => false))) return true;
    const title = clean(
      await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => ''),
    );
    const placeholder =
      (await widget
        .locator('input.input')
        .getAttribute('placeholder')
        .catch(() => '')) || '';
    return title !== shown.title || placeholder !== shown.placeholder;
  };
  await waitUntil(gone, `the quick pick to close after Enter on "${expectLabel}"`, { timeout });
  return shown;
}

/**
 * Answers a save dialog. In code-server that is VS Code's "simple file dialog": a quick input whose box
 * holds the proposed path, above a list of the folder it shows. Puts the folder of `filePath` (absolute;
 * the folder must exist) in the box, waits until the dialog lists it, puts the whole path there until it
 * stays, and presses Enter. If the dialog then asks before replacing an existing file (a quick pick titled
 * "... already exists ..."), confirms it with Enter. Returns what the dialog showed: its title, the label
 * of its button, the proposed path, the overwrite question if one came, whether Enter had to be pressed
 * twice, and how often the folder (`relisted`) or the path (`retyped`) had to be put in the box again.
 * @param {import('playwright-core').Page} page
 */
async function answerSaveDialog(page, filePath, { timeout = UI_TIMEOUT } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  await waitForLocator(widget, 'the file dialog', { timeout });
  await waitForLocator(input, "the file dialog's path box", { timeout });
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const titleOf = async () =>
    clean(
      await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => ''),
    );
  const valueOf = () => input.inputValue().catch(() => '');
  const rowsOf = () =>
    widget
      .locator('.quick-input-list .monaco-list-row')
      .evaluateAll((rows) => rows.map((row) => row.querySelector('.label-name')?.textContent?.trim() ?? ''))
      .catch(() => []);
  // The dialog fills the box in steps (the folder, then the proposed file name) while it lists the folder:
  // wait until the box holds a value that stays put, or the dialog would overwrite what is typed.
  let last;
  let since = Date.now();
  const proposed = await waitUntil(
    async () => {
      const value = await valueOf();
      if (value !== last) [last, since] = [value, Date.now()];
      return value && Date.now() - since >= 500 ? value : undefined;
    },
    'the save dialog to propose a path',
    { timeout },
  );
  const shown = {
    title: await titleOf(),
    button: clean(
      (
        await widget
          .locator('.monaco-button')
          .evaluateAll((buttons) => buttons.filter((b) => b.offsetParent !== null).map((b) => b.textContent))
          .catch(() => [])
      ).join(' '),
    ),
    proposed,
    overwrite: undefined,
    enterAgain: false,
    relisted: 0,
    retyped: 0,
  };

  // The dialog moves its listing when the box ends in a separator after a folder, and a listing still being
  // read can swallow the next move (seen on a loaded CI machine: the box held the path while the listing
  // stayed one folder up). So: put the folder with a trailing separator in the box in one step, wait until
  // the dialog lists that folder (no row but the folder's entries, and all of its sub-folders: files are
  // listed only when they fit the filters), putting it there again if the listing does not follow; then
  // type the name.
  const folder = path.dirname(filePath);
  const entries = fs.readdirSync(folder, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  const subfolders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const listsFolder = async () => {
    const rows = (await rowsOf()).filter((r) => r !== '..');
    return rows.every((r) => names.has(r)) && subfolders.every((d) => rows.includes(d));
  };
  const failure = async (error) => {
    throw new Error(
      `${error.message} (it holds ${JSON.stringify(await valueOf())} and lists ${(await rowsOf()).join(', ')})`,
    );
  };
  const deadline = Date.now() + timeout;
  const folderWithSeparator = folder.endsWith(path.sep) ? folder : folder + path.sep;
  await input.click();
  for (let attempt = 1; ; attempt++) {
    await input.fill(folderWithSeparator);
    const listed = await waitUntil(
      async () => (await valueOf()) === folderWithSeparator && (await listsFolder()),
      `the save dialog to list ${folder}`,
      {
        timeout: Math.max(500, Math.min(3000 * attempt, deadline - Date.now())),
      },
    ).catch((error) => (Date.now() >= deadline ? failure(error) : undefined));
    if (listed) break;
    shown.relisted = attempt;
  }
  // Then the whole path. A move the dialog had under way can still put its own proposal back in the box
  // (in a save dialog, the folder plus the proposed name): the path must stay put for a moment, or it is
  // put there again.
  for (;;) {
    await input.fill(filePath);
    const settled = Date.now() + 600;
    let held = true;
    while (held && Date.now() < settled) {
      held = (await valueOf()) === filePath && (await listsFolder());
      await sleep(100);
    }
    if (held) break;
    if (Date.now() >= deadline)
      await failure(
        new Error(
          `timed out after ${timeout / 1000} s waiting for the save dialog to keep ${filePath} and list ${folder}`,
        ),
      );
    shown.retyped++;
  }

  // Either the dialog closes, or it asks before replacing the file: a quick pick titled with the question.
  // An Enter that only moved the listing (into the typed folder, in a folder dialog, which then holds the
  // path with a trailing separator) leaves the dialog open with the same title: press it once more.
  // A command that asks its next question right away reuses the widget: another title is closed too.
  const outcome = async () => {
    if (!(await widget.isVisible())) return 'closed';
    const title = await titleOf();
    if (/already exists/i.test(title)) return title;
    return title !== shown.title ? 'closed' : undefined;
  };
  await page.keyboard.press('Enter');
  let result = await waitUntil(outcome, 'the save dialog to close', { timeout: scaled(5000) }).catch(() => undefined);
  if (!result && (await titleOf()) === shown.title && [filePath, filePath + path.sep].includes(await valueOf())) {
    shown.enterAgain = true;
    await page.keyboard.press('Enter');
  }
  result ??= await waitUntil(outcome, 'the save dialog to close', { timeout }).catch(async (error) => {
    const message = clean(
      await widget
        .locator('.quick-input-message')
        .textContent()
        .catch(() => ''),
    );
    throw new Error(
      `${error.message} (it holds ${JSON.stringify(await valueOf())}${message ? `, and says: ${message}` : ''}${shown.enterAgain ? '; Enter was pressed twice' : ''})`,
    );
  });
  if (result !== 'closed') {
    shown.overwrite = result;
    await page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout });
  }
  return shown;
}

/** Polls `probe` until it returns a truthy value; returns that value or throws `what` after `timeout`. */
async function waitUntil(probe, what, { timeout = UI_TIMEOUT, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await sleep(interval);
  }
}

module.exports = {
  UI_TIMEOUT,
  LOAD_TIMEOUT,
  scaled,
  sleep,
  waitForLocator,
  answerInputBox,
  waitForWorkbench,
  waitForView,
  runCommand,
  notificationTexts,
  settleNotifications,
  waitForNotification,
  treeItem,
  waitForDiffEditor,
  openFile,
  openViewContainer,
  expandTreeItem,
  clickInlineAction,
  moveMouseAway,
  acceptQuickPick,
  answerSaveDialog,
  waitUntil,
};
