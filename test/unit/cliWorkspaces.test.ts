// The CLI half of #12's "Restore a project from anywhere": `workspaces` lists what a store holds, and
// restore, ls and list take `--workspace <name|id|path>`, so a project whose folder is gone is reached by its
// name. Without --workspace, `latest` keeps meaning the store's newest snapshot.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCliCaptured, useTempDirs, writeTree } from './helpers/fixtures';
import type { CliRun } from './helpers/fixtures';

interface WorkspaceJson {
  id: string;
  name: string;
  lastPath: string;
  snapshots: number;
  bytes: number;
  folderExists: boolean;
  latestSnapshotId: string;
}

describe('CLI workspaces and --workspace (#12)', () => {
  const temp = useTempDirs();

  /** "app" (2 snapshots), then "site" (1, newer); the app folder is then deleted. */
  async function lostProject(): Promise<{ app: string; site: string; cli: (...argv: string[]) => Promise<CliRun> }> {
    const root = temp.make('projects');
    const app = path.join(root, 'app');
    const site = path.join(root, 'site');
    writeTree(app, { 'README.md': 'app\n', 'src/main.ts': 'main();\n' });
    writeTree(site, { 'index.html': '<p>site</p>\n' });
    const repo = temp.fresh('store');
    const cli = (...argv: string[]) => runCliCaptured([...argv, '--repo', repo]);
    assert.equal((await cli('snapshot', app)).code, 0);
    writeTree(app, { 'src/more.ts': 'more();\n' });
    assert.equal((await cli('snapshot', app, '--label', 'before the loss')).code, 0);
    assert.equal((await cli('snapshot', site)).code, 0);
    fs.rmSync(app, { recursive: true });
    return { app, site, cli };
  }

  it('workspaces prints a table (name, last path, last snapshot, snapshots, size, folder exists) newest first, and --json the summaries', async () => {
    const { app, site, cli } = await lostProject();
    const table = await cli('workspaces');
    assert.equal(table.code, 0, table.stderr.join('\n'));
    assert.match(table.stdout[0], /^NAME\s+LAST PATH\s+LAST SNAPSHOT\s+SNAPSHOTS\s+SIZE\s+FOLDER EXISTS\s+ID$/);
    assert.match(
      table.stdout[1],
      new RegExp(`^site\\s+${site}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+1\\s+12 B\\s+yes\\s+[0-9a-f]{16}$`),
    );
    assert.match(table.stdout[2], new RegExp(`^app\\s+${app}\\s+.*\\s+2\\s+.*\\s+no\\s+[0-9a-f]{16}$`));
    assert.match(table.stdout[3], /^2 workspaces; restore one with: project-backup restore latest --workspace/);
    const json = (await cli('workspaces', '--json')).json<WorkspaceJson[]>();
    assert.deepEqual(
      json.map((w) => [w.name, w.snapshots, w.folderExists]),
      [
        ['site', 1, true],
        ['app', 2, false],
      ],
    );
  });

  it("restore --workspace <name> brings back that workspace's latest snapshot into a new folder, though another workspace is newer", async () => {
    const { cli } = await lostProject();
    const target = path.join(temp.make('new-home'), 'app');
    const run = await cli('restore', '--workspace', 'app', '--target', target);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(fs.readdirSync(target).sort(), ['README.md', 'src']);
    assert.equal(fs.readFileSync(path.join(target, 'src', 'more.ts'), 'utf8'), 'more();\n');
  });

  it('without --workspace, latest stays the newest snapshot of the whole store (the behaviour before #12)', async () => {
    const { cli } = await lostProject();
    const whole = await cli('ls', 'latest');
    assert.deepEqual(
      whole.stdout.map((l) => l.split(/\s+/).pop()),
      ['index.html'],
    );
    const app = await cli('ls', 'latest', '--workspace', 'app');
    assert.deepEqual(
      app.stdout.map((l) => l.split(/\s+/).pop()),
      ['README.md', 'src/'],
    );
  });

  it('list --workspace takes a name, an id prefix, or the path of a folder that is gone', async () => {
    const { app, cli } = await lostProject();
    const id = (await cli('workspaces', '--json')).json<WorkspaceJson[]>()[1].id;
    for (const given of ['app', id.slice(0, 6), app]) {
      const run = await cli('list', '--workspace', given, '--json');
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.equal(run.json<unknown[]>().length, 2, given);
    }
    const none = await cli('list', '--workspace', temp.make('never-snapshotted'));
    assert.deepEqual(none.stdout, ['No snapshots yet.'], 'a folder without snapshots still lists none, as before');
  });

  it('an unknown or ambiguous --workspace is one sentence naming the choices, exit 1', async () => {
    const { cli } = await lostProject();
    const other = path.join(temp.make('elsewhere'), 'app');
    writeTree(other, { 'x.txt': 'x\n' });
    assert.equal((await cli('snapshot', other)).code, 0);
    const ambiguous = await cli('restore', 'latest', '--workspace', 'app', '--target', temp.fresh('t'));
    assert.equal(ambiguous.code, 1);
    assert.equal(ambiguous.stderr.length, 1);
    assert.match(ambiguous.stderr[0], /"app" names 2 workspaces: app \(.*\); app \(.*\); give its id or its path\.$/);
    const unknown = await cli('ls', 'latest', '--workspace', 'nosuch');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.length, 1);
    assert.match(unknown.stderr[0], /No workspace in the store is called "nosuch"; it holds 3: .*site.*app.*app/);
  });
});
