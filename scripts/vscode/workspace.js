// Fresh temp copies of the test fixtures, and the workbench URL query that opens them.
//   single folder: a copy of test/integration/fixtures/workspace
//   multi-root:    copies of fixtures/workspace and fixtures/library plus a .code-workspace listing both
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { REPO_ROOT } = require('./ensureHost');

const FIXTURES = path.join(REPO_ROOT, 'test', 'integration', 'fixtures');

/**
 * @param {string} runDir
 * @param {{ multiRoot?: boolean, name?: string }} [options]  name: a sub-folder of runDir (several scenarios, one run)
 * @returns {{ folders: string[], workspaceFile?: string, openQuery: string, description: string }}
 */
function prepareWorkspace(runDir, options = {}) {
  const root = path.join(runDir, options.name || 'workspace');
  fs.mkdirSync(root, { recursive: true });
  const copy = (fixture) => {
    const target = path.join(root, fixture);
    fs.cpSync(path.join(FIXTURES, fixture), target, { recursive: true });
    return target;
  };
  if (!options.multiRoot) {
    const folder = copy('workspace');
    return { folders: [folder], openQuery: `folder=${queryPath(folder)}`, description: folder };
  }
  const folders = [copy('workspace'), copy('library')];
  const workspaceFile = path.join(root, 'multi-root.code-workspace');
  fs.writeFileSync(
    workspaceFile,
    `${JSON.stringify({ folders: folders.map((f) => ({ path: path.basename(f) })), settings: {} }, null, 2)}\n`,
  );
  return {
    folders,
    workspaceFile,
    openQuery: `workspace=${queryPath(workspaceFile)}`,
    description: `${workspaceFile} (${folders.map((f) => path.basename(f)).join(' + ')})`,
  };
}

/** A path as a query value, readable: slashes stay, everything else is escaped. */
function queryPath(p) {
  return encodeURIComponent(p).replace(/%2F/g, '/');
}

module.exports = { prepareWorkspace, queryPath, FIXTURES };
