// The guard between names read from a store and paths written on disk. A store may have been edited by
// someone hostile; nothing it says may place a file outside the restore target.
// Invariant: every path the restorer writes is target + validated components, and lies inside target.

import * as path from 'node:path';
import { BackupError } from '../errors';

/** Why a single path component is unsafe to write, or undefined when it is fine. */
export function unsafeNameReason(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (name === '' ) return 'an empty name';
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

/** Splits a snapshot-relative path given by a user (`src/a.ts`, `./src`, `/src`) into components. */
export function splitUserPath(p: string): string[] {
  const parts = p.replace(/\\/g, '/').split('/').filter((part) => part !== '' && part !== '.');
  for (const part of parts) {
    const reason = unsafeNameReason(part);
    if (reason) throw new BackupError('UNSAFE_PATH', `The path ${p} contains ${reason}; give a path inside the snapshot.`, { path: p });
  }
  return parts;
}

/** Joins validated components under `target`; throws UNSAFE_PATH when any would escape it. */
export function safeJoin(target: string, parts: readonly string[], platform: NodeJS.Platform = process.platform): string {
  const impl = platform === 'win32' ? path.win32 : path.posix;
  for (const part of parts) {
    const reason = unsafeNameReason(part, platform);
    if (reason) {
      throw new BackupError('UNSAFE_PATH', `Refusing to restore "${parts.join('/')}": it contains ${reason}, which could write outside the target.`, { path: parts.join('/') });
    }
  }
  const joined = impl.join(target, ...parts);
  const rel = impl.relative(target, joined);
  // `..` as a whole component escapes; a name that merely starts with two dots (`..notes`) does not.
  if (rel === '..' || rel.startsWith(`..${impl.sep}`) || impl.isAbsolute(rel)) {
    throw new BackupError('UNSAFE_PATH', `Refusing to restore "${parts.join('/')}": it would land outside ${target}.`, { path: parts.join('/') });
  }
  return joined;
}
