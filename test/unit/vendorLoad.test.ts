// The big vendor libraries (archiver, ssh2) load on first use without holding the editor's loop: the bundles
// require their vendor files (Node's ESM loader scanned the 900 KB archiver file for its exports before
// running it, and the first export held the loop 110-123 ms at once in the #16 bench), and archiver's
// libraries are evaluated one per turn.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadInSteps } from '../../src/core/export/archiverVendor';
import { REPO_ROOT } from './helpers/fixtures';

type Factory = (
  format: 'tar',
  options: object,
) => NodeJS.ReadWriteStream & { append(b: Buffer, d: { name: string }): void; finalize(): Promise<void> };

describe('vendor libraries load without holding the loop (#16)', function () {
  this.timeout(60_000);

  it('the bundles require their vendor files, never import() them (the first export held the loop 110-123 ms)', () => {
    for (const bundle of ['extension.js', 'cli.js']) {
      const code = fs.readFileSync(path.join(REPO_ROOT, 'dist', bundle), 'utf8');
      assert.doesNotMatch(
        code,
        /import\(\s*["']\.\/vendor\//,
        `${bundle} imports a vendor file through the ESM loader`,
      );
      assert.match(code, /require\(\s*["']\.\/vendor\/archiver\.js["']\s*\)/, `${bundle} does not require archiver`);
      assert.match(code, /require\(\s*["']\.\/vendor\/ssh2\.js["']\s*\)/, `${bundle} does not require ssh2`);
      assert.doesNotMatch(code, /node_modules\/archiver\/lib\/core\.js/, `${bundle} holds archiver itself`);
    }
  });

  it("archiver's libraries are evaluated one per turn, and what comes out writes a tar", async () => {
    let turns = 0;
    const loaded = (await loadInSteps(async () => {
      turns++;
    })) as Factory | { default: Factory };
    assert.ok(turns >= 8, `only ${turns} turns`);
    const create = typeof loaded === 'function' ? loaded : loaded.default;
    const tar = create('tar', {});
    const parts: Buffer[] = [];
    tar.on('data', (b: Buffer) => parts.push(b));
    const ended = new Promise((resolve) => tar.on('end', resolve));
    tar.append(Buffer.from('hello\n'), { name: 'a.txt' });
    await tar.finalize();
    await ended;
    const bytes = Buffer.concat(parts);
    assert.equal(bytes.toString('utf8', 0, 5), 'a.txt');
    assert.equal(bytes.toString('ascii', 257, 262), 'ustar');
    assert.equal(bytes.toString('utf8', 512, 518), 'hello\n');
  });

  it('the built vendor file loads archiver in steps too', () => {
    const script = `require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'vendor', 'archiver.js'))})
      .loadInSteps(() => new Promise((r) => setImmediate(r)))
      .then((a) => console.log(typeof (typeof a === 'function' ? a : a.default)));`;
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim(), 'function');
  });
});
