// What a snapshot leaves out: exclude globs, optional .gitignore files, and the store itself.
// A pure predicate over workspace-relative paths. Invariant: an excluded folder is never descended into,
// and the same rules give the same answer for a full scan and for an on-save path.

import * as path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { Minimatch } from 'minimatch';

/** Dependencies, VCS internals, other tools' history folders and OS junk: never worth a backup by default. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '.history',
  '.DS_Store',
  '._*',
  'Thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '$RECYCLE.BIN',
  '.Spotlight-V100',
  '.Trashes',
  '.fseventsd',
  '.TemporaryItems',
  '.~lock.*#',
];

export interface RulesOptions {
  /** Globs: one without a slash matches a name at any depth (like .gitignore); one with a slash matches the workspace-relative path; a trailing slash matches folders only. */
  excludes?: readonly string[];
  /** Globs that bring back a path the excludes would drop (e.g. `.env` when `.*` is excluded). */
  includes?: readonly string[];
  gitignore?: boolean;
  /** Absolute paths never to enter (the store, when it lives inside the workspace). */
  excludeAbsolute?: readonly string[];
  /**
   * The workspace's own `.git` (at its root): included whole when true, left out when false (the default
   * here; the snapshotter's default is true). Exclude globs, .gitignore files and the size cap never apply
   * inside it, since one missing object or pack breaks the repository. A `.git` deeper down (a nested
   * repository) follows the excludes like any other folder.
   */
  includeGit?: boolean;
}

/** Whether a workspace-relative path is the workspace's own `.git` or inside it. */
export function isGitPath(relPath: string): boolean {
  return relPath === '.git' || relPath.startsWith('.git/');
}

interface CompiledGlobs {
  byName?: RegExp;
  byPath?: RegExp;
  dirsByName?: RegExp;
  dirsByPath?: RegExp;
}

function compileGlobs(patterns: readonly string[]): CompiledGlobs {
  const byName: string[] = [];
  const byPath: string[] = [];
  const dirsByName: string[] = [];
  const dirsByPath: string[] = [];
  for (const raw of patterns) {
    let pattern = raw.trim().replace(/\\/g, '/');
    if (!pattern || pattern.startsWith('#')) continue;
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.replace(/\/+$/, '');
    const anchored = pattern.includes('/');
    if (pattern.startsWith('/')) pattern = pattern.slice(1);
    if (pattern.startsWith('./')) pattern = pattern.slice(2);
    const re = new Minimatch(pattern, { dot: true, nocomment: true, nonegate: true }).makeRe();
    if (!re) continue;
    const target = anchored ? (dirOnly ? dirsByPath : byPath) : dirOnly ? dirsByName : byName;
    target.push(re.source);
    // `src/gen` also excludes everything below it, even when only a file path is checked. Strictly below:
    // `x/**` would also match `x` itself, so a dir-only `out/cache/` would drop a file named `out/cache`.
    if (anchored && !pattern.endsWith('/**')) {
      const below = new Minimatch(`${pattern}/**/*`, { dot: true, nocomment: true, nonegate: true }).makeRe();
      if (below) byPath.push(below.source);
    }
  }
  const join = (sources: string[]) =>
    sources.length ? new RegExp(sources.map((s) => `(?:${s})`).join('|')) : undefined;
  return { byName: join(byName), byPath: join(byPath), dirsByName: join(dirsByName), dirsByPath: join(dirsByPath) };
}

function matches(globs: CompiledGlobs, relPath: string, name: string, isDir: boolean): boolean {
  if (globs.byName?.test(name) || globs.byPath?.test(relPath)) return true;
  if (isDir && (globs.dirsByName?.test(name) || globs.dirsByPath?.test(relPath))) return true;
  return false;
}

/** One .gitignore file's rules, anchored at the folder that holds it. */
export interface GitignoreLayer {
  /** Workspace-relative folder of the .gitignore ('' for the root). */
  base: string;
  rules: Ignore;
}

export function parseGitignore(base: string, text: string): GitignoreLayer {
  return { base, rules: ignore({ allowRelativePaths: true }).add(text) };
}

export class Rules {
  private readonly excludes: CompiledGlobs;
  private readonly includes: CompiledGlobs;
  readonly gitignore: boolean;
  private readonly excludeAbsolute: Set<string>;
  readonly includeGit: boolean;
  /** A fingerprint of the options, so a stat cache built under other rules is not trusted. */
  readonly fingerprint: string;

  constructor(private readonly options: RulesOptions = {}) {
    const excludes = options.excludes ?? DEFAULT_EXCLUDES;
    this.excludes = compileGlobs(excludes);
    this.includes = compileGlobs(options.includes ?? []);
    this.gitignore = options.gitignore ?? false;
    this.includeGit = options.includeGit ?? false;
    this.excludeAbsolute = new Set((options.excludeAbsolute ?? []).map((p) => path.resolve(p)));
    this.fingerprint = JSON.stringify([
      excludes,
      options.includes ?? [],
      this.gitignore,
      [...this.excludeAbsolute].sort(),
      ...(this.includeGit ? ['git'] : []),
    ]);
  }

  /** The same rules with the workspace's `.git` included or left out (restore decides per target). */
  withGit(includeGit: boolean): Rules {
    return includeGit === this.includeGit ? this : new Rules({ ...this.options, includeGit });
  }

  isExcludedAbsolute(absPath: string): boolean {
    return this.excludeAbsolute.has(absPath);
  }

  /**
   * Whether a path is left out. `layers` are the .gitignore files from the root down to the path's folder.
   * `relPath` uses forward slashes and has no leading slash.
   */
  excluded(relPath: string, name: string, isDir: boolean, layers: readonly GitignoreLayer[] = []): boolean {
    if (isGitPath(relPath)) return !this.includeGit;
    if (matches(this.excludes, relPath, name, isDir) && !matches(this.includes, relPath, name, isDir)) return true;
    if (this.gitignore) {
      // Deepest file first: a nested .gitignore overrides its parents, as in git.
      for (let i = layers.length - 1; i >= 0; i--) {
        const layer = layers[i];
        const inner = layer.base ? relPath.slice(layer.base.length + 1) : relPath;
        const verdict = layer.rules.test(isDir ? `${inner}/` : inner);
        if (verdict.ignored) return !matches(this.includes, relPath, name, isDir);
        if (verdict.unignored) return false;
      }
    }
    return false;
  }
}
