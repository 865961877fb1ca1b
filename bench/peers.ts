// The peers Project Backup is measured against, each driven by its own command line with default settings
// except where a default would make the measurement meaningless (noted at each place).

import * as fs from 'fs';
import * as path from 'path';
import { runCommand, type CommandSpec } from './measure';
import type { Saver, Timed, Tool, ToolName } from './tool';

export interface ToolContext {
  /** Absolute path of the workspace being backed up. */
  ws: string;
  /** Absolute path of this tool's store; does not exist yet. */
  store: string;
  /** Absolute path for the tool's cache and scratch files (outside the store). */
  scratch: string;
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** Sums the time and takes the largest peak of commands run one after the other as one operation. */
async function sequence(specs: CommandSpec[], measureRss: boolean): Promise<Timed> {
  let ms = 0;
  let peak: number | undefined;
  for (const spec of specs) {
    const r = await runCommand(spec, { measureRss });
    ms += r.ms;
    if (r.peakRssBytes !== undefined) peak = Math.max(peak ?? 0, r.peakRssBytes);
  }
  return { ms, peakRssBytes: peak };
}

export class GitTool implements Tool {
  readonly name: ToolName = 'git';
  readonly method =
    "git --git-dir=STORE --work-tree=WS add -A && git commit -q --allow-empty -m m, with gc.auto=0 (git's default " +
    'auto-gc would detach and run in the background after the commit returns); store size after the edit rounds is ' +
    'taken after an explicit git gc (timed, in details), i.e. git at its smallest; restore all: checkout -f HEAD -- . ' +
    'into the target with a throwaway index (0.6 s vs 1.1 s for git archive | tar -x on the 10k workspace); one ' +
    'file: git show HEAD:path > file; check: git fsck; save: git add <file> && git commit';
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly ctx: ToolContext) {
    // Isolated from the user's ~/.gitconfig and /etc/gitconfig, so hooks, signing or fsmonitor set there
    // cannot change what is measured.
    this.env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  }

  private git(args: string[], extra: Partial<CommandSpec> = {}): CommandSpec {
    return {
      cmd: 'git',
      args: [
        '-c',
        'user.name=bench',
        '-c',
        'user.email=bench@example.invalid',
        '-c',
        'commit.gpgsign=false',
        '-c',
        'core.hooksPath=/dev/null',
        // By default a commit past 6,700 loose objects starts a gc that detaches and repacks in the
        // background: it would run during the other tools' measurements and change the store after we
        // measured it. Off here; compact() runs the same gc explicitly, at a fixed point.
        '-c',
        'gc.auto=0',
        `--git-dir=${this.ctx.store}`,
        ...args,
      ],
      cwd: this.ctx.ws,
      env: this.env,
      ...extra,
    };
  }

  async init(): Promise<Timed> {
    const r = await runCommand({ cmd: 'git', args: ['init', '-q', '--bare', this.ctx.store], env: this.env });
    return { ms: r.ms };
  }

  async snapshot(options: { measureRss: boolean }): Promise<Timed> {
    const wt = `--work-tree=${this.ctx.ws}`;
    const add = await sequence([this.git([wt, 'add', '-A'])], options.measureRss);
    const commit = await sequence([this.git([wt, 'commit', '-q', '--allow-empty', '-m', 'm'])], options.measureRss);
    return {
      ms: add.ms + commit.ms,
      peakRssBytes:
        add.peakRssBytes === undefined && commit.peakRssBytes === undefined
          ? undefined
          : Math.max(add.peakRssBytes ?? 0, commit.peakRssBytes ?? 0),
      // The split shows when the commit's automatic gc (repacking) is what made a snapshot slow.
      detail: { addMs: round1(add.ms), commitMs: round1(commit.ms), ...this.objectCounts() },
    };
  }

  /** Packs the store the way git's auto-gc would (git gc), so the store-size figure is git at its smallest. */
  async compact(): Promise<Timed> {
    const r = await runCommand(this.git(['gc', '-q']));
    return { ms: r.ms, detail: this.objectCounts() };
  }

  /** Loose objects and packs: tells whether auto-gc has packed the store. */
  private objectCounts(): { looseObjects: number; packs: number } {
    const objects = path.join(this.ctx.store, 'objects');
    let looseObjects = 0;
    for (const d of fs.readdirSync(objects))
      if (/^[0-9a-f]{2}$/.test(d)) looseObjects += fs.readdirSync(path.join(objects, d)).length;
    const packs = fs.readdirSync(path.join(objects, 'pack')).filter((f) => f.endsWith('.pack')).length;
    return { looseObjects, packs };
  }

  async restoreAll(target: string, options: { measureRss?: boolean } = {}): Promise<Timed & { root: string }> {
    fs.mkdirSync(target, { recursive: true });
    // A throwaway index: checking out with the shadow repo's own index would rewrite its stat data for
    // the target folder and make git's next `add -A` of the workspace rehash every file.
    const index = path.join(this.ctx.scratch, `restore-index-${Date.now()}`);
    const spec = this.git([`--work-tree=${target}`, 'checkout', '-f', 'HEAD', '--', '.'], {
      cwd: target,
      env: { ...this.env, GIT_INDEX_FILE: index },
    });
    const r = await runCommand(spec, options);
    fs.rmSync(index, { force: true });
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, root: target };
  }

  /** git fsck: every object read and checked, and the history connected. */
  async verify(options: { measureRss: boolean }): Promise<Timed> {
    const r = await runCommand(this.git(['fsck', '--no-progress']), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    const file = path.join(target, relPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const r = await runCommand(this.git(['show', `HEAD:${relPath}`], { stdoutFile: file }));
    return { ms: r.ms, file };
  }

  /**
   * One file the way checkpoint extensions restore it: `git checkout <commit> -- path` into a work tree, with
   * a throwaway index so the shadow repository's own index (the workspace's stat data) is left alone.
   */
  async checkoutOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    fs.mkdirSync(target, { recursive: true });
    const index = path.join(this.ctx.scratch, `restore-one-index-${Date.now()}`);
    const spec = this.git([`--work-tree=${target}`, 'checkout', 'HEAD', '--', relPath], {
      cwd: target,
      env: { ...this.env, GIT_INDEX_FILE: index },
    });
    const r = await runCommand(spec);
    fs.rmSync(index, { force: true });
    return { ms: r.ms, file: path.join(target, relPath) };
  }

  storeDirs(): string[] {
    return [this.ctx.store];
  }

  cacheDirs(): string[] {
    return [];
  }

  async openSaver(): Promise<Saver> {
    const wt = `--work-tree=${this.ctx.ws}`;
    return {
      save: async (relPath) => {
        const t = await sequence(
          [this.git([wt, 'add', '--', relPath]), this.git([wt, 'commit', '-q', '--allow-empty', '-m', 'm'])],
          false,
        );
        return t.ms;
      },
      close: async () => undefined,
    };
  }
}

export class ResticTool implements Tool {
  readonly name: ToolName = 'restic';
  readonly maxSaves = 20;
  readonly method =
    'restic backup WS -q (repository format 2, compression auto, parent snapshot found by host+paths); restore: ' +
    'restic restore latest --target; one file: --include; check: restic check; save: restic backup WS/<file> (a separate snapshot each)';
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly ctx: ToolContext) {
    this.env = { ...process.env, RESTIC_PASSWORD: 'x', RESTIC_CACHE_DIR: path.join(ctx.scratch, 'cache') };
  }

  private restic(args: string[], cwd?: string): CommandSpec {
    return { cmd: 'restic', args: [...args, '--repo', this.ctx.store], env: this.env, cwd };
  }

  async init(): Promise<Timed> {
    const r = await runCommand(this.restic(['init', '-q']));
    return { ms: r.ms };
  }

  async snapshot(options: { measureRss: boolean }): Promise<Timed> {
    // A fixed --host keeps parent-snapshot detection (which makes unchanged files cheap) independent of the machine's name.
    const r = await runCommand(this.restic(['backup', this.ctx.ws, '-q', '--host', 'bench']), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreAll(target: string, options: { measureRss?: boolean } = {}): Promise<Timed & { root: string }> {
    const r = await runCommand(this.restic(['restore', 'latest', '--target', target, '-q']), options);
    // restic recreates the absolute source path under the target.
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, root: path.join(target, this.ctx.ws) };
  }

  /** restic check: the repository's structure (no --read-data, like our verify). */
  async verify(options: { measureRss: boolean }): Promise<Timed> {
    const r = await runCommand(this.restic(['check', '-q']), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    const abs = path.join(this.ctx.ws, relPath);
    const r = await runCommand(this.restic(['restore', 'latest', '--target', target, '--include', abs, '-q']));
    return { ms: r.ms, file: path.join(target, abs) };
  }

  storeDirs(): string[] {
    return [this.ctx.store];
  }

  cacheDirs(): string[] {
    return [path.join(this.ctx.scratch, 'cache')];
  }

  async openSaver(): Promise<Saver> {
    return {
      save: async (relPath) =>
        (await runCommand(this.restic(['backup', path.join(this.ctx.ws, relPath), '-q', '--host', 'bench']))).ms,
      close: async () => undefined,
    };
  }
}

export class BorgTool implements Tool {
  readonly name: ToolName = 'borg';
  readonly maxSaves = 20;
  readonly method =
    'borg init -e none; borg create STORE::sN WS (default lz4, files cache ctime,size,inode); restore: borg ' +
    'extract in the target folder; one file: borg extract STORE::sN path; check: borg check; save: borg create of the one file';
  private readonly env: NodeJS.ProcessEnv;
  private archives = 0;
  private saves = 0;

  constructor(private readonly ctx: ToolContext) {
    this.env = {
      ...process.env,
      BORG_PASSPHRASE: 'x',
      // Config, cache and security folders under scratch, so runs never share borg state.
      BORG_BASE_DIR: path.join(ctx.scratch, 'base'),
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
  }

  private borg(args: string[], cwd?: string): CommandSpec {
    return { cmd: 'borg', args, env: this.env, cwd };
  }

  private latest(): string {
    return `${this.ctx.store}::s${this.archives}`;
  }

  async init(): Promise<Timed> {
    fs.mkdirSync(path.join(this.ctx.scratch, 'base'), { recursive: true });
    const r = await runCommand(this.borg(['init', '-e', 'none', this.ctx.store]));
    return { ms: r.ms };
  }

  async snapshot(options: { measureRss: boolean }): Promise<Timed> {
    this.archives++;
    const r = await runCommand(this.borg(['create', this.latest(), this.ctx.ws]), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreAll(target: string, options: { measureRss?: boolean } = {}): Promise<Timed & { root: string }> {
    fs.mkdirSync(target, { recursive: true });
    // borg stores the path without its leading slash and extracts relative to the current folder.
    const r = await runCommand(this.borg(['extract', this.latest()], target), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, root: path.join(target, this.ctx.ws) };
  }

  /** borg check: the repository and its archives (no --verify-data, like our verify). */
  async verify(options: { measureRss: boolean }): Promise<Timed> {
    const r = await runCommand(this.borg(['check', this.ctx.store]), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    fs.mkdirSync(target, { recursive: true });
    const stored = path.join(this.ctx.ws, relPath).replace(/^\/+/, '');
    const r = await runCommand(this.borg(['extract', this.latest(), stored], target));
    return { ms: r.ms, file: path.join(target, stored) };
  }

  storeDirs(): string[] {
    return [this.ctx.store];
  }

  cacheDirs(): string[] {
    return [path.join(this.ctx.scratch, 'base')];
  }

  async openSaver(): Promise<Saver> {
    return {
      save: async (relPath) => {
        // Save archives get their own names so restore keeps using the last whole-workspace archive.
        const name = `${this.ctx.store}::save${++this.saves}`;
        return (await runCommand(this.borg(['create', name, path.join(this.ctx.ws, relPath)]))).ms;
      },
      close: async () => undefined,
    };
  }
}

export class CopyTool implements Tool {
  readonly name: ToolName = 'cp';
  readonly method =
    'cp -a WS STORE/vN for every snapshot (a copy per version); restore: cp -a back; one file: cp -a; ' +
    'save: fs.copyFile of the one file in process (what a copy-per-save local-history extension does)';
  private versions = 0;
  private saves = 0;

  constructor(private readonly ctx: ToolContext) {}

  private latest(): string {
    return path.join(this.ctx.store, `v${this.versions}`);
  }

  async init(): Promise<Timed> {
    fs.mkdirSync(this.ctx.store, { recursive: true });
    return { ms: 0 };
  }

  async snapshot(options: { measureRss: boolean }): Promise<Timed> {
    this.versions++;
    const r = await runCommand({ cmd: 'cp', args: ['-a', this.ctx.ws, this.latest()] }, options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreAll(target: string, options: { measureRss?: boolean } = {}): Promise<Timed & { root: string }> {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const r = await runCommand({ cmd: 'cp', args: ['-a', this.latest(), target] }, options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, root: target };
  }

  async restoreOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    const file = path.join(target, relPath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const r = await runCommand({ cmd: 'cp', args: ['-a', path.join(this.latest(), relPath), file] });
    return { ms: r.ms, file };
  }

  storeDirs(): string[] {
    return [this.ctx.store];
  }

  cacheDirs(): string[] {
    return [];
  }

  async openSaver(): Promise<Saver> {
    const dir = path.join(this.ctx.store, 'saves');
    fs.mkdirSync(dir, { recursive: true });
    return {
      save: async (relPath) => {
        const started = performance.now();
        fs.copyFileSync(path.join(this.ctx.ws, relPath), path.join(dir, `${++this.saves}-${path.basename(relPath)}`));
        return performance.now() - started;
      },
      close: async () => undefined,
    };
  }
}
