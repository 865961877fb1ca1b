// Where a store lives, from the one string users type: a folder path, or a URL for a remote destination.
// Invariant: every front (CLI, editor, replication) turns a location into a Backend here, so a new kind of
// destination is added in one place.

import * as path from 'node:path';
import type { Backend } from './backend';
import type { FsPort } from './fsPort';
import { LocalBackend } from './localBackend';
import type { RemoteOptions } from './remote';
import { parseSftpLocation } from './remote';

/** Whether a location names a remote store (a URL such as sftp://user@host/path) rather than a folder. */
export function isRemoteLocation(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** A location as it should be shown and remembered: folders made absolute, URLs left as typed. */
export function normalizeLocation(location: string): string {
  return isRemoteLocation(location) ? location : path.resolve(location);
}

/**
 * The backend for a location: a folder (LocalBackend), `sftp://user@host[:port]/path` (SftpBackend, which
 * connects on first use and must be closed) or `s3://host[:port]/bucket/prefix` (S3Backend, any S3-compatible
 * object store; `s3+http://` for a local server without TLS). `remote` carries credentials and host-key trust; a folder
 * ignores it. The SFTP code (and ssh2 with it) is loaded only when an sftp:// location is opened.
 */
/** Whether a location names an S3-compatible object store (`s3://`, `s3+http://`, `s3+https://`). */
export function isS3Location(location: string): boolean {
  return /^s3(\+https?)?:\/\//i.test(location);
}

export async function backendFor(location: string, port: FsPort, remote: RemoteOptions = {}): Promise<Backend> {
  if (!isRemoteLocation(location)) return new LocalBackend(path.resolve(location), port);
  if (isS3Location(location)) {
    const { openS3Backend } = await import('./s3Backend');
    return openS3Backend(location, remote.s3Credentials);
  }
  const parsed = parseSftpLocation(location); // refuses other schemes with one sentence
  const { SftpBackend } = await import('./sftpBackend');
  return new SftpBackend(location, parsed, remote);
}
