// Exclude rules as a pure predicate over workspace-relative paths.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DEFAULT_EXCLUDES, Rules, parseGitignore } from '../../src/core/scan/rules';
import type { GitignoreLayer } from '../../src/core/scan/rules';

/** Whether `rel` is excluded, checking every ancestor folder like a walk does. */
function excludedByWalk(rules: Rules, rel: string, isDir: boolean, layers: GitignoreLayer[] = []): boolean {
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    const sub = parts.slice(0, i + 1).join('/');
    const dir = parts.slice(0, i).join('/');
    const inForce = layers.filter((l) => l.base === '' || dir === l.base || dir.startsWith(`${l.base}/`));
    if (rules.excluded(sub, parts[i], i < parts.length - 1 || isDir, inForce)) return true;
  }
  return false;
}

describe('Rules', () => {
  describe('default excludes', () => {
    const rules = new Rules();

    it('leaves out dependencies, VCS folders and OS junk at any depth', () => {
      assert.ok(rules.excluded('node_modules', 'node_modules', true));
      assert.ok(rules.excluded('packages/app/node_modules', 'node_modules', true));
      assert.ok(rules.excluded('.git', '.git', true));
      assert.ok(rules.excluded('sub/.git', '.git', false), '.git as a file (a worktree link) too');
      assert.ok(rules.excluded('.DS_Store', '.DS_Store', false));
      assert.ok(rules.excluded('docs/img/.DS_Store', '.DS_Store', false));
      assert.ok(rules.excluded('docs/._photo.jpg', '._photo.jpg', false));
      assert.ok(rules.excluded('Thumbs.db', 'Thumbs.db', false));
      assert.ok(excludedByWalk(rules, 'node_modules/x.js', false));
    });

    it('keeps ordinary files, including look-alikes', () => {
      for (const rel of [
        'src/index.ts',
        'node_modules_backup/a.js',
        'my.git',
        '.gitignore',
        '.github/workflows/ci.yml',
        'DS_Store',
        '.env',
      ]) {
        assert.equal(excludedByWalk(rules, rel, false), false, rel);
      }
    });

    it('DEFAULT_EXCLUDES is what an unconfigured Rules uses (same fingerprint)', () => {
      assert.equal(new Rules().fingerprint, new Rules({ excludes: DEFAULT_EXCLUDES }).fingerprint);
      assert.notEqual(new Rules().fingerprint, new Rules({ excludes: [...DEFAULT_EXCLUDES, '*.log'] }).fingerprint);
      assert.notEqual(new Rules().fingerprint, new Rules({ gitignore: true }).fingerprint);
    });
  });

  describe('custom globs', () => {
    it('a glob without a slash matches a name at any depth', () => {
      const rules = new Rules({ excludes: ['*.log', 'tmp'] });
      assert.ok(rules.excluded('a.log', 'a.log', false));
      assert.ok(rules.excluded('deep/down/b.log', 'b.log', false));
      assert.ok(rules.excluded('x/tmp', 'tmp', true));
      assert.ok(rules.excluded('x/tmp', 'tmp', false));
      assert.equal(rules.excluded('a.log.txt', 'a.log.txt', false), false);
      assert.equal(rules.excluded('tmpfile', 'tmpfile', false), false);
      // Custom excludes replace the defaults.
      assert.equal(rules.excluded('node_modules', 'node_modules', true), false);
    });

    it('a glob with a slash matches the workspace-relative path, and everything below it', () => {
      const rules = new Rules({ excludes: ['src/gen', 'docs/*.md', '/dist'] });
      assert.ok(rules.excluded('src/gen', 'gen', true));
      assert.ok(rules.excluded('src/gen/a.ts', 'a.ts', false), 'below an excluded path');
      assert.equal(rules.excluded('lib/src/gen', 'gen', true), false, 'anchored at the root');
      assert.ok(rules.excluded('docs/a.md', 'a.md', false));
      assert.equal(rules.excluded('docs/sub/a.md', 'a.md', false), false, '* does not cross folders');
      assert.ok(rules.excluded('dist', 'dist', true), 'a leading slash anchors');
      assert.equal(rules.excluded('pkg/dist', 'dist', true), false);
    });

    it('a trailing slash matches folders only', () => {
      const rules = new Rules({ excludes: ['build/', 'out/cache/'] });
      assert.ok(rules.excluded('build', 'build', true));
      assert.ok(rules.excluded('a/b/build', 'build', true), 'a name glob: any depth');
      assert.equal(rules.excluded('build', 'build', false), false, 'a file named build stays');
      assert.ok(rules.excluded('out/cache', 'cache', true));
      assert.equal(rules.excluded('out/cache', 'cache', false), false);
      assert.ok(excludedByWalk(rules, 'out/cache/x.bin', false));
      assert.equal(rules.excluded('x/out/cache', 'cache', true), false);
    });

    it('** crosses folders, dot files match, comments and blanks are ignored', () => {
      const rules = new Rules({ excludes: ['**/*.tmp', '.*rc', '# a comment', '  '] });
      assert.ok(rules.excluded('a.tmp', 'a.tmp', false));
      assert.ok(rules.excluded('x/y/z.tmp', 'z.tmp', false));
      assert.ok(rules.excluded('.npmrc', '.npmrc', false));
      assert.equal(rules.excluded('# a comment', '# a comment', false), false);
    });

    it('includes bring back what the excludes drop', () => {
      const rules = new Rules({ excludes: ['.*'], includes: ['.env', '.github/'] });
      assert.ok(rules.excluded('.cache', '.cache', true));
      assert.equal(rules.excluded('.env', '.env', false), false);
      assert.equal(rules.excluded('.github', '.github', true), false);
    });

    it('excludeAbsolute names exact absolute paths', () => {
      const store = path.resolve('/work/ws/.store');
      const rules = new Rules({ excludeAbsolute: ['/work/ws/.store/'] });
      assert.ok(rules.isExcludedAbsolute(store));
      assert.equal(rules.isExcludedAbsolute(path.resolve('/work/ws/.store2')), false);
    });
  });

  describe('.gitignore', () => {
    it('is ignored unless asked for', () => {
      const layer = parseGitignore('', '*.log\n');
      assert.equal(new Rules({ excludes: [] }).excluded('a.log', 'a.log', false, [layer]), false);
      assert.ok(new Rules({ excludes: [], gitignore: true }).excluded('a.log', 'a.log', false, [layer]));
    });

    it('honours patterns, negation, directory-only patterns and anchoring', () => {
      const rules = new Rules({ excludes: [], gitignore: true });
      const root = parseGitignore('', '*.log\n!keep.log\nbuild/\n/only-root.txt\n');
      const layers = [root];
      assert.ok(rules.excluded('a.log', 'a.log', false, layers));
      assert.ok(rules.excluded('x/b.log', 'b.log', false, layers));
      assert.equal(rules.excluded('keep.log', 'keep.log', false, layers), false, 'negation');
      assert.ok(rules.excluded('build', 'build', true, layers));
      assert.equal(rules.excluded('build', 'build', false, layers), false, 'build/ is for folders only');
      assert.ok(rules.excluded('only-root.txt', 'only-root.txt', false, layers));
      assert.equal(rules.excluded('x/only-root.txt', 'only-root.txt', false, layers), false);
    });

    it('a nested .gitignore applies below its folder and overrides its parents', () => {
      const rules = new Rules({ excludes: [], gitignore: true });
      const root = parseGitignore('', '*.log\n');
      const sub = parseGitignore('pkg', '!important.log\n*.tmp\n/local.txt\n');
      const layers = [root, sub];
      assert.equal(rules.excluded('pkg/important.log', 'important.log', false, layers), false, 'nested negation wins');
      assert.ok(rules.excluded('pkg/other.log', 'other.log', false, layers), 'parent rule still applies');
      assert.ok(rules.excluded('pkg/deep/x.tmp', 'x.tmp', false, layers));
      assert.ok(rules.excluded('pkg/local.txt', 'local.txt', false, layers), 'anchored at the nested folder');
      assert.equal(rules.excluded('pkg/deep/local.txt', 'local.txt', false, layers), false);
      // Outside pkg only the root layer is in force.
      assert.equal(rules.excluded('x.tmp', 'x.tmp', false, [root]), false);
    });
  });
});
