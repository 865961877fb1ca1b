// The shape every benchmarked tool takes, so run.ts drives Project Backup and its peers through exactly
// the same steps on the same workspace states. Each method times only the tool's own command(s).

export type ToolName = 'ours' | 'git' | 'restic' | 'borg' | 'cp';

export const toolLabels: Record<ToolName, string> = {
  ours: 'Project Backup',
  git: 'git shadow repo',
  restic: 'restic',
  borg: 'borg',
  cp: 'plain copy',
};

export interface Timed {
  ms: number;
  peakRssBytes?: number;
  /** Tool-specific facts worth keeping in results.json (e.g. our CLI's JSON answer). */
  detail?: Record<string, unknown>;
}

/** One tool bound to one workspace and one fresh store. Every method throws CommandFailed on failure. */
export interface Tool {
  readonly name: ToolName;
  /** Creates the empty store (not timed as a snapshot; its time is recorded separately). */
  init(): Promise<Timed>;
  /** Snapshots the whole workspace in its current state. */
  snapshot(options: { measureRss: boolean }): Promise<Timed>;
  /** Restores the latest snapshot whole into `target` (a folder that does not exist yet). */
  restoreAll(target: string, options?: { measureRss?: boolean }): Promise<Timed & { root: string }>;
  /** Checks the store the tool's own way (ours: verify; git: fsck; restic and borg: check); absent when it has none. */
  verify?(options: { measureRss: boolean }): Promise<Timed>;
  /** Restores one file of the latest snapshot under `target`; `file` is where it landed. */
  restoreOne(relPath: string, target: string): Promise<Timed & { file: string }>;
  /** Store maintenance the tool would eventually run on its own (git's gc); timed apart from snapshots. */
  compact?(): Promise<Timed>;
  /** Folders that make up the store (measured with dirSize). */
  storeDirs(): string[];
  /** Caches the tool keeps outside its store (restic, borg): reported, not counted as store. */
  cacheDirs(): string[];
  /** A per-save snapshotter of one file, if the tool has one. */
  openSaver?(): Promise<Saver>;
  /** Saves to run at most (restic and borg are too slow per save to run all of them). */
  readonly maxSaves?: number;
  /** How this tool was run, for the report. */
  readonly method: string;
}

export interface Saver {
  /** Snapshots the one changed file; returns the time of that alone. */
  save(relPath: string): Promise<number>;
  close(): Promise<void>;
}
