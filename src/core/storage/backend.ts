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
}
