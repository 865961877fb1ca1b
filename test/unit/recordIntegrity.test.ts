// Every stored object is verifiable, snapshot records and the config included, in plain stores as in
// encrypted ones (#11.10). Older records and configs without a checksum are reported as such, not as damage;
// a damaged stat cache is harmless (discarded) and verify says so.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyRepository } from '../../src/core/check/verify';
import { Repository } from '../../src/core/repository/repository';
import { Restorer } from '../../src/core/restore/restorer';
import { readTree, seededText, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

describe('record and config integrity', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ ws: string; store: string; id: string }> {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': seededText(3000, 1), 'd/b.txt': seededText(4000, 2) });
    const store = temp.fresh('store');
    const repo = await Repository.open(store, { create: true });
    const id = (await snapshotterFor(repo, ws).snapshot({ label: 'first' })).snapshot.id;
    await repo.close();
    return { ws, store, id };
  }

  async function verify(store: string) {
    const repo = await Repository.open(store);
    try {
      return await verifyRepository(repo, { readData: true });
    } finally {
      await repo.close();
    }
  }

  it('a flipped byte or an edited time in a plain snapshot record is reported by verify --read-data (#11.10)', async () => {
    const { store, id } = await setup();
    const file = path.join(store, 'snapshots', id);
    const original = fs.readFileSync(file, 'utf8');
    const edits: Array<[string, string]> = [
      [
        'time 2026 -> 2016',
        original.replace(/"time":"20(\d)/, (_m, d: string) => `"time":"20${d === '1' ? '2' : '1'}`),
      ],
      ['label flipped', original.replace('"first"', '"firsu"')],
      ['a count changed', original.replace(/"files":(\d+)/, (_m, n: string) => `"files":${Number(n) + 1}`)],
      ['whitespace added', original.replace('{', '{ ')],
      // A flip in the checksum's own name left a record that passed for an older one (adversarial seed 1835149856).
      ['checksum key flipped', original.replace('"checksum"', '"chec{sum"')],
    ];
    for (const [what, text] of edits) {
      assert.notEqual(text, original, what);
      fs.writeFileSync(file, text);
      const report = await verify(store);
      assert.equal(report.ok, false, `${what}: verify passed`);
      assert.ok(
        report.damage.some((d) => d.object === `snapshots/${id}` && /checksum/.test(d.reason)),
        `${what}: ${JSON.stringify(report.damage)}`,
      );
    }
    fs.writeFileSync(file, original);
    assert.equal((await verify(store)).ok, true);
  });

  it("a flipped byte in the config's store id is reported by verify, and the store still restores (#11.10)", async () => {
    const { ws, store } = await setup();
    const file = path.join(store, 'config');
    const text = fs.readFileSync(file, 'utf8');
    const flipped = text.replace(/"id": "([0-9a-f])/, (_m, c: string) => `"id": "${c === '0' ? '1' : '0'}`);
    assert.notEqual(flipped, text);
    fs.writeFileSync(file, flipped);
    const report = await verify(store);
    assert.equal(report.ok, false);
    assert.ok(
      report.damage.some((d) => d.object === 'config'),
      JSON.stringify(report.damage),
    );
    const repo = await Repository.open(store);
    const target = temp.fresh('out');
    await new Restorer(repo).restore(await repo.resolveSnapshot('latest'), { target });
    assert.deepEqual(readTree(target), readTree(ws));
  });

  it('records and a config of the older format (no checksum) are notes, not damage, and a label change adds one (#11.10)', async () => {
    const { store, id } = await setup();
    const record = path.join(store, 'snapshots', id);
    const parsed = JSON.parse(fs.readFileSync(record, 'utf8')) as Record<string, unknown>;
    delete parsed.checksum;
    fs.writeFileSync(record, JSON.stringify(parsed));
    const config = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8')) as Record<string, unknown>;
    delete config.checksum;
    fs.writeFileSync(path.join(store, 'config'), JSON.stringify(config, null, 2) + '\n');
    const report = await verify(store);
    assert.equal(report.ok, true, JSON.stringify(report.damage));
    assert.ok(
      report.notes.some((n) => /1 snapshot record not checksummed \(older format\)/.test(n)),
      report.notes.join(' | '),
    );
    assert.ok(
      report.notes.some((n) => /config is not checksummed/.test(n)),
      report.notes.join(' | '),
    );
    const repo = await Repository.open(store);
    await repo.saveSnapshot({ ...(await repo.loadSnapshot(id)), label: 'relabelled' });
    await repo.close();
    assert.ok('checksum' in (JSON.parse(fs.readFileSync(record, 'utf8')) as object));
    assert.ok(!(await verify(store)).notes.some((n) => /snapshot record/.test(n)));
  });

  it('a damaged stat cache is harmless: verify notes that it is discarded, and the next snapshot works (#11.10)', async () => {
    const { ws, store } = await setup();
    const caches = fs.readdirSync(path.join(store, 'cache'));
    assert.ok(caches.length > 0);
    fs.writeFileSync(path.join(store, 'cache', caches[0]), Buffer.from('not a cache at all'));
    const report = await verify(store);
    assert.equal(report.ok, true, JSON.stringify(report.damage));
    assert.ok(
      report.notes.some((n) => n.includes(`cache/${caches[0]}`) && /discarded/.test(n)),
      report.notes.join(' | '),
    );
    const repo = await Repository.open(store);
    fs.writeFileSync(path.join(ws, 'c.txt'), 'new');
    const result = await snapshotterFor(repo, ws).snapshot();
    assert.equal(result.snapshot.stats.filesNew, 1);
    await repo.close();
  });
});
