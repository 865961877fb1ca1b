// `tag`: labels and pins from the command line. A label shows in `list`; pinned and labelled snapshots
// survive `forget --keep-last 1`, and once unpinned and unlabelled they go like any other.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCliCaptured, useTempDirs, writeTree } from './helpers/fixtures';

interface ListJson {
  id: string;
  label: string | null;
  pinned: boolean;
}

describe('tag command', () => {
  const temp = useTempDirs();

  /** A store with `count` snapshots of one workspace, oldest first. */
  async function history(count: number): Promise<{ store: string; ids: string[] }> {
    const ws = temp.make('ws');
    const store = temp.fresh('store');
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      writeTree(ws, { 'notes.txt': `version ${i}\n` });
      const run = await runCliCaptured(['snapshot', ws, '--repo', store, '--json']);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      ids.push(run.json<{ id: string }>().id);
    }
    return { store, ids };
  }

  const tag = (args: string[]) => runCliCaptured(['tag', ...args]);
  const list = async (store: string) => (await runCliCaptured(['list', '--repo', store, '--json'])).json<ListJson[]>();

  it('sets and clears a label, which list shows', async () => {
    const { store, ids } = await history(2);
    const run = await tag([ids[0].slice(0, 8), '--repo', store, '--label', '  before the refactor ']);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.match(
      run.stdout[0],
      new RegExp(`^Snapshot ${ids[0].slice(0, 8)} \\(.*\\): label "before the refactor", not pinned\\.$`),
    );
    assert.equal((await list(store)).find((s) => s.id === ids[0])?.label, 'before the refactor');
    const text = await runCliCaptured(['list', '--repo', store]);
    assert.ok(
      text.stdout.some((line) => line.startsWith(ids[0].slice(0, 8)) && line.includes('"before the refactor"')),
      text.stdout.join('\n'),
    );

    const json = await tag(['latest', '--repo', store, '--label', 'tip', '--pin', '--json']);
    assert.deepEqual(JSON.parse(json.stdout.join('\n')).label, 'tip');
    assert.equal(JSON.parse(json.stdout.join('\n')).pinned, true);
    const both = await list(store);
    assert.deepEqual(
      both.map((s) => [s.label, s.pinned]),
      [
        ['before the refactor', false],
        ['tip', true],
      ],
    );

    assert.equal((await tag([ids[0], '--repo', store, '--label', ''])).code, 0);
    assert.equal((await list(store)).find((s) => s.id === ids[0])?.label, null, 'an empty label clears it');
  });

  it('a pin and a label survive forget --keep-last 1; unpinned and unlabelled they go', async () => {
    const { store, ids } = await history(4);
    assert.equal((await tag([ids[0], '--repo', store, '--label', 'keep me'])).code, 0);
    assert.equal((await tag([ids[1], '--repo', store, '--pin'])).code, 0);

    const forget = await runCliCaptured(['forget', '--repo', store, '--keep-last', '1', '--json']);
    assert.equal(forget.code, 0, forget.stderr.join('\n'));
    const decided = forget.json<{
      snapshots: Array<{ id: string; keep: boolean; reasons: string[] }>;
      removed: string[];
    }>();
    assert.deepEqual(decided.removed, [ids[2]], 'only the plain one in the middle goes');
    assert.ok(decided.snapshots.find((s) => s.id === ids[1])?.reasons.includes('pinned'));
    assert.deepEqual(
      (await list(store)).map((s) => s.id),
      [ids[0], ids[1], ids[3]],
    );

    assert.equal((await tag([ids[1], '--repo', store, '--unpin'])).code, 0);
    assert.equal((await tag([ids[0], '--repo', store, '--label', ''])).code, 0);
    assert.equal((await runCliCaptured(['forget', '--repo', store, '--keep-last', '1'])).code, 0);
    assert.deepEqual(
      (await list(store)).map((s) => s.id),
      [ids[3]],
    );
  });

  it('usage errors exit 2; an unknown snapshot exits 1 with one line', async () => {
    const { store } = await history(1);
    for (const args of [
      ['latest', '--repo', store],
      ['latest', '--repo', store, '--pin', '--unpin'],
      ['--repo', store, '--pin'],
      ['latest', '--repo', store, '--colour', 'red'],
    ]) {
      const run = await tag(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr.join(' | ')}`);
      assert.ok(run.stderr.length > 0);
    }
    const missing = await tag(['ffffffff', '--repo', store, '--pin']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.length, 1);
    assert.match(missing.stderr[0], /No snapshot matches "ffffffff"/);
    const noStore = await tag(['latest', '--repo', path.join(temp.make('empty'), 'none'), '--pin']);
    assert.equal(noStore.code, 1);
    assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), [], 'no lock left behind');
  });
});
