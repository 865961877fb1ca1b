// The guard between names from a store and paths on disk, on POSIX and (simulated) Windows.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { isBackupError } from '../../src/core/errors';
import { safeJoin, splitUserPath, unsafeNameReason } from '../../src/core/repository/safePath';

const unsafe = (e: unknown) => isBackupError(e, 'UNSAFE_PATH');

describe('safePath', () => {
  describe('unsafeNameReason', () => {
    it('refuses empty, ".", "..", slashes and NUL on every platform', () => {
      for (const platform of ['linux', 'darwin', 'win32'] as const) {
        for (const name of ['', '.', '..', 'a/b', '/etc', '../x', 'x\0y']) {
          assert.ok(unsafeNameReason(name, platform), `${JSON.stringify(name)} on ${platform}`);
        }
      }
      assert.match(unsafeNameReason('x\0y', 'linux')!, /NUL/);
      assert.match(unsafeNameReason('a/b', 'linux')!, /slash/);
    });

    it('refuses drive letters, backslashes and reserved characters on win32 only', () => {
      for (const name of ['C:evil', 'c:', 'a\\b', '..\\..\\x', 'what?', 'a<b', 'pipe|x', 'quote"d', 'star*']) {
        assert.ok(unsafeNameReason(name, 'win32'), name);
        assert.equal(unsafeNameReason(name, 'linux'), undefined, `${name} is an ordinary name on Linux`);
      }
      assert.match(unsafeNameReason('C:evil', 'win32')!, /drive letter/);
    });

    it('accepts ordinary and unusual but harmless names', () => {
      for (const name of ['a', '.env', '..notes', '...', 'a..b', 'spa ce', 'émoji 😀', '漢字', '-rf', '~', 'x.']) {
        assert.equal(unsafeNameReason(name, 'linux'), undefined, name);
      }
      assert.equal(unsafeNameReason('..notes', 'win32'), undefined);
    });
  });

  describe('safeJoin', () => {
    it('joins validated components under the target', () => {
      assert.equal(safeJoin('/t', ['a', 'b.txt'], 'linux'), '/t/a/b.txt');
      assert.equal(safeJoin('/t', ['..notes'], 'linux'), '/t/..notes');
      assert.equal(safeJoin('/t', ['...', '..x'], 'linux'), '/t/.../..x');
      assert.equal(safeJoin('C:\\t', ['a', '..notes'], 'win32'), 'C:\\t\\a\\..notes');
      assert.equal(safeJoin('/t', [], 'linux'), path.posix.normalize('/t'));
    });

    it('throws UNSAFE_PATH, naming the entry, for any component that could escape', () => {
      const cases: Array<[string, string[], NodeJS.Platform]> = [
        ['/t', ['..'], 'linux'],
        ['/t', ['a', '..', '..', 'etc'], 'linux'],
        ['/t', ['/etc/passwd'], 'linux'],
        ['/t', ['a/../../x'], 'linux'],
        ['/t', ['x\0y'], 'linux'],
        ['C:\\t', ['C:evil'], 'win32'],
        ['C:\\t', ['..\\..\\Windows'], 'win32'],
        ['C:\\t', ['D:'], 'win32'],
      ];
      for (const [target, parts, platform] of cases) {
        assert.throws(
          () => safeJoin(target, parts, platform),
          (e: unknown) => unsafe(e) && (e as Error).message.includes(parts.join('/')),
          `${parts.join('|')} on ${platform}`,
        );
      }
    });
  });

  describe('splitUserPath', () => {
    it('accepts the spellings people type and normalises them', () => {
      assert.deepEqual(splitUserPath('src/a.ts'), ['src', 'a.ts']);
      assert.deepEqual(splitUserPath('./src//a.ts'), ['src', 'a.ts']);
      assert.deepEqual(splitUserPath('/src/'), ['src']);
      assert.deepEqual(splitUserPath('src\\win\\a.ts'), ['src', 'win', 'a.ts']);
      assert.deepEqual(splitUserPath(''), []);
      assert.deepEqual(splitUserPath('.'), []);
      assert.deepEqual(splitUserPath('..notes'), ['..notes']);
    });

    it('refuses paths that climb out of the snapshot', () => {
      for (const p of ['..', '../x', 'a/../../b', 'a/..', 'x\0y']) {
        assert.throws(() => splitUserPath(p), unsafe, p);
      }
    });
  });
});
