// "Backup: Snapshot Workspace" from the command palette, as a user runs it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { waitForWorkbench, runCommand, answerPromptIfAsked, waitForNotification } = require('./workbench');

/** @type {import('./scenario').Scenario[]} */
module.exports = [
  {
    name: 'snapshot-workspace',
    title: 'Backup: Snapshot Workspace from the palette reports the snapshot',
    async run({ page, screenshot, log, storePath, home }) {
      await waitForWorkbench(page);
      await runCommand(page, 'Backup: Snapshot Workspace');
      // The command may ask for an optional label first: accept the default, as most users do.
      const prompt = await answerPromptIfAsked(page);
      if (prompt) log(`answered: ${prompt}`);
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
