// The guard between names read from a store and paths written on disk. A store may have been edited by
// someone hostile; nothing it says may place a file outside the restore target.
// Invariant: every path the restorer writes is target + validated components, and lies inside target.

import * as path from 'node:path';
import { BackupError } from '../errors';
import type { TreeEntry } from '../repository/tree';

/** Why a single path component is unsafe to write, or undefined when it is fine. */
export function unsafeNameReason(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return `"${name}"`;
  if (name.includes('/')) return 'a slash inside a name';
  if (name.includes('\0')) return 'a NUL character';
  if (platform === 'win32') {
    if (name.includes('\\')) return 'a backslash inside a name';
    if (/^[a-zA-Z]:/.test(name)) return 'a drive letter';
    if (/[<>:"|?*]/.test(name)) return 'a character Windows forbids';
  }
  return undefined;
}

/**
 * Why restore refuses a tree entry, or undefined when it restores. The one rule restore, mirror and verify
 * share, so verify reports every entry a restore would refuse.
 */
export function entryProblem(entry: TreeEntry, platform: NodeJS.Platform = process.platform): string | undefined {
  const reason = unsafeNameReason(entry.name, platform);
  if (reason) return `refused: the name contains ${reason}`;
  if (entry.type === 'symlink') {
    if (entry.target === '') return 'refused: a symlink without a target';
    if (entry.target.includes('\0')) return 'refused: a symlink whose target contains a NUL character';
  }
  return undefined;
}

/**
 * The permission bits restore applies: read, write and execute for owner, group and others. A store's
 * setuid, setgid and sticky bits (or bits beyond them) are never applied: a store is not trusted to make a
 * file that runs as its owner.
 */
export const RESTORED_MODE_BITS = 0o777;

/** Splits a snapshot-relative path given by a user (`src/a.ts`, `./src`, `/src`) into components. */
export function splitUserPath(p: string): string[] {
  const parts = p
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  for (const part of parts) {
    const reason = unsafeNameReason(part);
    if (reason)
      throw new BackupError('UNSAFE_PATH', `The path ${p} contains ${reason}; give a path inside the snapshot.`, {
        path: p,
      });
  }
  return parts;
}

/** Joins validated components under `target`; throws UNSAFE_PATH when any would escape it. */
export function safeJoin(
  target: string,
  parts: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string {
  const impl = platform === 'win32' ? path.win32 : path.posix;
  for (const part of parts) {
    const reason = unsafeNameReason(part, platform);
    if (reason) {
      throw new BackupError(
        'UNSAFE_PATH',
        `Refusing to restore "${parts.join('/')}": it contains ${reason}, which could write outside the target.`,
        { path: parts.join('/') },
      );
    }
  }
  const joined = impl.join(target, ...parts);
  const rel = impl.relative(target, joined);
  // `..` as a whole component escapes; a name that merely starts with two dots (`..notes`) does not.
  if (rel === '..' || rel.startsWith(`..${impl.sep}`) || impl.isAbsolute(rel)) {
    throw new BackupError('UNSAFE_PATH', `Refusing to restore "${parts.join('/')}": it would land outside ${target}.`, {
      path: parts.join('/'),
    });
  }
  return joined;
}
