// The local stores this editor has opened, kept in global state. A known store whose folder is later empty
// or gone is not silently created again: that is a drive not connected, a share not mounted, or a store
// deleted by hand, and a fresh empty store in its place would hide the history from the views (and, under a
// mount point, be hidden itself once the drive is back). The user says when a new store is wanted.

import type * as vscode from 'vscode';

const KEY = 'projectBackup.knownStores';
/** Newest last; the oldest fall off beyond this many. */
const LIMIT = 200;

export class KnownStores {
  constructor(private readonly memento: vscode.Memento) {}

  has(location: string): boolean {
    return this.list().includes(location);
  }

  async remember(location: string): Promise<void> {
    const list = this.list();
    if (list[list.length - 1] === location) return;
    await this.memento.update(KEY, [...list.filter((l) => l !== location), location].slice(-LIMIT));
  }

  async forget(location: string): Promise<void> {
    const list = this.list();
    if (list.includes(location))
      await this.memento.update(
        KEY,
        list.filter((l) => l !== location),
      );
  }

  /** Every known store, oldest first. */
  all(): string[] {
    return this.list();
  }

  private list(): string[] {
    const value = this.memento.get<unknown>(KEY);
    return Array.isArray(value) ? value.filter((l): l is string => typeof l === 'string') : [];
  }
}
