// The store's config file: format version, store id, chunker parameters and, for an encrypted store, the
// wrapped master key (crypto.ts; its chunker seed is then "" and the real one is in the key).
// Invariant: a store written by a newer format is refused before anything else is read or written.

import { createHash, randomBytes } from 'node:crypto';
import { BackupError } from '../errors';

export const FORMAT_VERSION = 1;

export interface ChunkerConfig {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** Per-store seed for the gear table, so chunk boundaries cannot be used to fingerprint content across stores. */
  seed: string;
}

export interface RepoConfig {
  format: number;
  id: string;
  created: string;
  chunker: ChunkerConfig;
  /** Files at least this large are split into content-defined chunks. */
  chunkFrom: number;
  compression: 'deflate-raw';
  /** Key material of an encrypted store (crypto.ts EncryptionConfig); null for a plain one. */
  encryption: null | Record<string, unknown>;
}

export function newConfig(now: Date): RepoConfig {
  return {
    format: FORMAT_VERSION,
    id: randomBytes(16).toString('hex'),
    created: now.toISOString(),
    chunker: {
      minSize: 128 * 1024,
      avgSize: 512 * 1024,
      maxSize: 2 * 1024 * 1024,
      seed: randomBytes(16).toString('hex'),
    },
    chunkFrom: 1024 * 1024,
    compression: 'deflate-raw',
    encryption: null,
  };
}

/**
 * The config carries `checksum`, the SHA-256 of its compact JSON without it, so a changed byte (the store id,
 * the chunker parameters) is found by verify. A config that fails it still opens: reading a store must not
 * depend on it, and an encrypted store's key block is bound to the id by the cipher anyway. Configs written
 * before checksums have none (verify says so); they are not rewritten just to add one.
 */
export function encodeConfig(config: RepoConfig): Buffer {
  const { checksum: _old, ...rest } = config as RepoConfig & { checksum?: unknown };
  const sum = createHash('sha256').update(JSON.stringify(rest), 'utf8').digest('hex');
  return Buffer.from(JSON.stringify({ ...rest, checksum: sum }, null, 2) + '\n', 'utf8');
}

/** Whether the config's bytes are exactly as written with their checksum ('absent': an older config). */
export function configChecksum(data: Buffer): 'ok' | 'absent' | 'damaged' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return 'damaged';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'damaged';
  if (!('checksum' in parsed)) return 'absent';
  return encodeConfig(parsed as unknown as RepoConfig).equals(data) ? 'ok' : 'damaged';
}

export function decodeConfig(data: Buffer, location: string): RepoConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw new BackupError(
      'REPO_CORRUPT',
      `The config file of the store at ${location} is not valid; the store may be damaged.`,
      { location },
    );
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new BackupError(
      'REPO_CORRUPT',
      `The config file of the store at ${location} is not valid; the store may be damaged.`,
      { location },
    );
  }
  const config = parsed as Partial<RepoConfig>;
  if (typeof config.format !== 'number') {
    throw new BackupError(
      'REPO_CORRUPT',
      `The config file of the store at ${location} has no format version; the store may be damaged.`,
      { location },
    );
  }
  if (config.format > FORMAT_VERSION) {
    throw new BackupError(
      'REPO_NEWER_FORMAT',
      `The store at ${location} uses format ${config.format}, newer than this version of Project Backup reads (${FORMAT_VERSION}); update Project Backup to use it.`,
      { location, format: config.format },
    );
  }
  const chunker = config.chunker;
  const valid =
    typeof config.id === 'string' &&
    typeof chunker === 'object' &&
    chunker !== null &&
    Number.isInteger(chunker.minSize) &&
    Number.isInteger(chunker.avgSize) &&
    Number.isInteger(chunker.maxSize) &&
    chunker.minSize > 0 &&
    chunker.minSize <= chunker.avgSize &&
    chunker.avgSize <= chunker.maxSize &&
    typeof chunker.seed === 'string' &&
    Number.isInteger(config.chunkFrom);
  if (!valid) {
    throw new BackupError(
      'REPO_CORRUPT',
      `The config file of the store at ${location} is incomplete; the store may be damaged.`,
      { location },
    );
  }
  delete (config as { checksum?: unknown }).checksum;
  return config as RepoConfig;
}
