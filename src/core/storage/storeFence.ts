// The one guard between a store and the jobs that write into a user's folders (restore, mirror, export, the
// editor's Restore to...) or read a workspace (snapshot): nothing but the store itself ever writes into the
// store's folder. Invariant: paths are compared by their real form (symlinks resolved as far as they exist),
// so a link to the store, or the store reached through a linked parent, is the store.

import * as path from 'node:path';
import { BackupError } from '../errors';
import type { FsPort } from './fsPort';
import { isRemoteLocation } from './locate';

export class StoreFence {
  private constructor(
    /** The store as the user named it. */
    readonly store: string,
    /** The folder checked, as the caller gave it (resolved). */
    readonly target: string,
    /** Whether the target is the store's folder or lies inside it. */
    readonly inside: boolean,
    /** When the target holds the store: the store's path below the target, as components. */
    readonly below: readonly string[] | undefined,
  ) {}

  /** Where `target` lies relative to the store at `store`. A remote store is never on a local path. */
  static async around(port: FsPort, store: string, target: string): Promise<StoreFence> {
    const resolved = path.resolve(target);
    if (isRemoteLocation(store)) return new StoreFence(store, resolved, false, undefined);
    const realStore = await realish(port, store);
    const realTarget = await realish(port, resolved);
    const inside = isWithin(realStore, realTarget);
    const below =
      !inside && isWithin(realTarget, realStore) ? path.relative(realTarget, realStore).split(path.sep) : undefined;
    return new StoreFence(store, resolved, inside, below);
  }

  /**
   * As `around`, but refuses (UNSAFE_PATH, one sentence) a target that is the store or inside it; `doing` is
   * e.g. "restore into", `advice` ends the sentence.
   */
  static async refuseInside(
    port: FsPort,
    store: string,
    target: string,
    doing: string,
    advice = 'only the store writes there; choose a folder outside the store',
  ): Promise<StoreFence> {
    const fence = await StoreFence.around(port, store, target);
    if (fence.inside) {
      throw new BackupError(
        'UNSAFE_PATH',
        `Refusing to ${doing} ${fence.target}: it is the backup store ${store} or a folder inside it, and ${advice}.`,
        {
          target: fence.target,
          store,
        },
      );
    }
    return fence;
  }

  /** Whether writing `parts` below the target would write into the store (the store's folder itself included). */
  covers(parts: readonly string[]): boolean {
    if (this.inside) return true;
    const below = this.below;
    if (!below || parts.length < below.length) return false;
    return below.every((part, i) => samePart(part, parts[i]));
  }

  /** The reason a path refused by `covers` gives. */
  get refusal(): string {
    return `refused: it would write into the backup store ${this.store}`;
  }
}

/** A path with symlinks resolved as far as it exists (a target may not exist yet). */
export async function realish(port: FsPort, p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return await port.realpath(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(await realish(port, parent), path.basename(abs));
  }
}

/** Whether `inner` is `outer` or lies below it; case-insensitively where file systems are by default (Windows, macOS). */
export function isWithin(outer: string, inner: string): boolean {
  const fold = process.platform === 'win32' || process.platform === 'darwin';
  const rel = fold ? path.relative(outer.toLowerCase(), inner.toLowerCase()) : path.relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function samePart(a: string, b: string): boolean {
  if (process.platform === 'win32' || process.platform === 'darwin') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}
