// A backend moves bytes by key and knows nothing of what they mean: the seam where a local folder,
// an SFTP server or an object store plugs in. Keys are relative slash paths such as `data/ab/abcd…`.
// Invariant: `save` is atomic (a reader sees the whole value or none) and the last write of a key wins.

export type KeyKind = 'config' | 'data' | 'index' | 'snapshots' | 'locks' | 'cache' | 'meta';

export interface Backend {
  /** Where the store lives, for messages. */
  readonly location: string;
  /** Atomically stores `data` under `key`, replacing any previous value. `durable: false` skips fsync. */
  save(key: string, data: Buffer | readonly Buffer[], options?: { durable?: boolean }): Promise<void>;
  /** Stores `data` only if `key` is absent, atomically; returns what is stored afterwards (ours, or the first writer's). */
  createOnce(key: string, data: Buffer): Promise<Buffer>;
  /** The whole value; throws BackupError OBJECT_MISSING when absent. */
  load(key: string): Promise<Buffer>;
  /** `length` bytes from `offset`; throws OBJECT_MISSING when absent, OBJECT_DAMAGED when short. */
  loadRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Size in bytes, or undefined when absent. */
  size(key: string): Promise<number | undefined>;
  /** Keys under a top-level kind (for `data`, across its fan-out folders), in no particular order. Temp files are not listed. */
  list(kind: KeyKind): Promise<string[]>;
  /** Removes a key; removing an absent key is not an error (idempotent). */
  remove(key: string): Promise<void>;

  // Optional: what replication needs beyond the five methods (a backend without them is still copied to, more slowly).

  /** Every key under a kind with its size, as one listing (a remote listing carries sizes for free). */
  sizes?(kind: KeyKind): Promise<Map<string, number>>;
  /**
   * Every key under a kind with a token that changes whenever its file is written or replaced (size, mtime and
   * inode locally): lets a snapshot tell that the index is as it last read it without reading it (#16).
   */
  versions?(kind: KeyKind): Promise<Map<string, string>>;
  /** Names directly in the store's folder, or undefined when the folder does not exist (for "is this an empty folder?"). */
  rootEntries?(): Promise<string[] | undefined>;
  /** Creates the store's folder layout; idempotent. A remote folder is created only inside one that exists. */
  createLayout?(): Promise<void>;
  /** Removes temp files left by interrupted writers that are older than `olderThanMs`; returns how many. */
  removeStaleTemps?(olderThanMs: number): Promise<number>;
  /**
   * Removes a kind's temp files whose writer was a process of this host that is gone (see sweepTemps): a lock
   * writer killed between writing its lock and renaming it into place leaves one in `locks/`.
   */
  sweepDeadTemps?(kind: KeyKind): Promise<number>;
  /** Ends the connection of a remote backend (idempotent); a local one has nothing to close. */
  close?(): Promise<void>;
  /**
   * A value written in pieces and stored under a key chosen at the end (a pack, named by the hash of its
   * bytes), so the writer holds none of it in memory. Without it, writers gather the pieces and `save` them.
   */
  openStream?(kind: KeyKind): Promise<BackendStream>;
  /**
   * The value in pieces of about `pieceBytes`, read as they are consumed (a large index file need never be
   * whole in memory); throws OBJECT_MISSING like `load`.
   */
  loadPieces?(key: string, pieceBytes: number): AsyncIterable<Buffer>;
}

/** See Backend.openStream. Nothing is visible under any key until `commit`, which is atomic like `save`. */
export interface BackendStream {
  /** Appends the pieces, in order; call one at a time. */
  write(parts: readonly Buffer[]): Promise<void>;
  /** Stores the value under `key` (like `save`; durable unless `durable: false`); the stream is finished. */
  commit(key: string, options?: { durable?: boolean }): Promise<void>;
  /** Drops what was written (never throws; idempotent); after a failed commit it removes the temp file only. */
  abort(): Promise<void>;
}
