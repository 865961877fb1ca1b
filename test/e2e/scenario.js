// The shape of an end-to-end scenario (JSDoc types only, for editors). test/e2e/*.e2e.js export one or a
// list of these, and scripts/vscode/runE2E.js runs each on a fresh copy of the fixture workspace in a new
// browser page of one code-server. Plain CommonJS on purpose: tsconfig compiles test/**/*.ts, and
// playwright-core lives in test/vscode-host, not in the extension's dependencies.
'use strict';

/**
 * @typedef {object} ScenarioContext
 * @property {import('playwright-core').Page} page  the workbench page, already navigated to the workspace
 *   (wait for it with waitForWorkbench)
 * @property {string[]} folders        the opened folders (copies of test/integration/fixtures/*; change them freely)
 * @property {string} [workspaceFile]  the .code-workspace file when the scenario asked for multiRoot
 * @property {string} storePath        the store the extension is configured with (projectBackup.storePath)
 * @property {string} home             the server's home folder (where a default ~/.project-backup store lands)
 * @property {(name: string) => Promise<string>} screenshot  saves test-results/screenshots/<name>.png, returns its path
 * @property {(message: string) => void} log  prints an indented line under the scenario's result
 */

/**
 * @typedef {object} Scenario
 * @property {string} name       short kebab-case id: the --grep target and the failure screenshot's name
 * @property {string} title      what it proves, printed with the result
 * @property {boolean} [multiRoot]  open a two-folder .code-workspace instead of one folder
 * @property {number} [timeout]  per-scenario limit in ms (default 60 s)
 * @property {(context: ScenarioContext & { scratch: string }) => Promise<{ open?: string } | void>} [prepare]
 *   runs before the window opens (scratch: a fresh folder path of its own, not yet created); returning
 *   `open` opens that folder instead of the fixture copy
 * @property {(context: ScenarioContext) => Promise<void>} run
 */

module.exports = {};
