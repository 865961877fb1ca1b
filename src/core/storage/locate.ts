// Where a store lives, from the one string users type: a folder path, or a URL for a remote destination.
// Invariant: every front (CLI, editor, replication) turns a location into a Backend here, so a new kind of
// destination is added in one place.

import * as path from 'node:path';
import type { Backend } from './backend';
import type { FsPort } from './fsPort';
import { LocalBackend } from './localBackend';

/** Whether a location names a remote store (a URL such as sftp://user@host/path) rather than a folder. */
export function isRemoteLocation(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** A location as it should be shown and remembered: folders made absolute, URLs left as typed. */
export function normalizeLocation(location: string): string {
  return isRemoteLocation(location) ? location : path.resolve(location);
}

export async function backendFor(location: string, port: FsPort): Promise<Backend> {
  return new LocalBackend(path.resolve(location), port);
}
