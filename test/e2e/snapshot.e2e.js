// "Backup: Snapshot Workspace" from the command palette, as a user runs it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { waitForWorkbench, runCommand, answerInputBox, waitForNotification } = require('./workbench');

/** Snapshot Workspace asks for an optional label before it snapshots. */
const LABEL_PROMPT = /^Label for this snapshot/;

/** @type {import('./scenario').Scenario[]} */
module.exports = [
  {
    name: 'snapshot-workspace',
    title: 'Backup: Snapshot Workspace from the palette reports the snapshot',
    async run({ page, step, screenshot, log, storePath, home }) {
      step('the workbench to load');
      await waitForWorkbench(page);
      step('Snapshot Workspace from the palette');
      await runCommand(page, 'Backup: Snapshot Workspace');
      // The command asks for an optional label first: accept the default, as most users do.
      step('the label box');
      log(`answered: ${await answerInputBox(page, LABEL_PROMPT)}`);
      step('the snapshot notification');
      const text = await waitForNotification(page, /^(Snapshot [0-9a-f]{6,}\b|Nothing changed)/, {
        failOn: /^(Snapshot failed|Open a folder)/,
      });
      log(`notification: ${text}`);
      await screenshot('snapshot-workspace');
      log(`store: ${describeStore(storePath, path.join(home, '.project-backup', 'store'))}`);
    },
  },
];

/** Where the snapshot landed: the configured store, or the default one under the server's home. */
function describeStore(...candidates) {
  for (const dir of candidates) {
    const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    if (entries.length > 0) return `${dir} (${entries.length} entries)`;
  }
  return `nothing written to ${candidates.join(' or ')}`;
}
