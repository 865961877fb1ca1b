// The benchmark behind `npm run bench`: Project Backup against a shadow git repository, restic, borg and
// a plain copy, on the same deterministic workspace and the same sequence of edits, each tool with its
// own fresh store. Prints a table with the targets, writes results.json, and exits non-zero if any
// measured command failed (a MISS alone does not fail the run: it is a measurement, not a test).
//
// Run: bundle with esbuild (entry bench/run.ts -> dist/bench.js) after dist/cli.js is built, then
// `node dist/bench.js [--quick] [--skip-200k] [--dir PATH]` (see `usage` below for every flag).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CommandFailed, dirAllocated, dirSize, hasGnuTime, percentile, runCommand, settleDisk, which } from './measure';
import { OursCliTool } from './oursCli';
import { BorgTool, CopyTool, GitTool, ResticTool, type ToolContext } from './peers';
import {
  evaluateTargets,
  measureDefs,
  renderMemory,
  renderTable,
  type MeasureKey,
  type MeasureValue,
  type ToolResult,
} from './report';
import { toolLabels, type Saver, type Tool, type ToolName } from './tool';
import { UsageError, parseArgs } from './options';
import { runEditorPath, blocksAtScale, type BlockRow, type EditorPathFigures } from './editorPath';
import { runReplay, replayUnavailable, type ReplayFigures } from './replay';
import {
  cliVerdicts,
  renderBlocks,
  renderEditorPath,
  renderReplay,
  renderScale,
  renderVerdicts,
  type Verdict,
} from './sections';
import { runStoreScale, type ScalePoint } from './storeScale';
import { fairFirstSnapshots, fairRestoreAll, smallFilesStep, type StepEnv } from './steps';
import {
  WorkspaceEditor,
  ensureWorkspace,
  formatMiB,
  listFiles,
  mixedParams,
  smallParams,
  type WorkspaceManifest,
} from './workspace';
import { Prng } from './prng';

/** The repository root: the nearest folder above this script whose package.json is ours (dist/ or bench/ alike). */
function findRepoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'project-backup') return dir;
      } catch {
        // Not ours; keep walking up.
      }
    }
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

const startedAt = performance.now();
function log(line: string): void {
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
}

/** What the sections beyond the CLI table measured (results.json `sections`). */
interface Sections {
  editorPath?: EditorPathFigures;
  blocksAtScale?: BlockRow[];
  storeScale?: ScalePoint[];
  replay?: ReplayFigures;
  /** Why a section has no figures: skipped by a flag, not possible here, or failed. */
  skipped: Record<string, string>;
}

const ACTIVATION_NOTE =
  "not measured here: activating the extension needs VS Code's extension host (the `vscode` module and its " +
  'context); the time to load dist/extension.js is not activation. The integration suite reports activationMs.';

function errorText(e: unknown): string {
  if (e instanceof CommandFailed) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : `unknown (${cmd} ${args.join(' ')} failed)`;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const repoRoot = findRepoRoot();
  const dir = path.resolve(opts.dir ?? path.join(repoRoot, '.bench'));
  const cliPath = path.resolve(opts.cli ?? path.join(repoRoot, 'dist', 'cli.js'));
  const files = opts.quick ? 1_000 : 10_000;
  const bigBytes = opts.quick ? 8 << 20 : 64 << 20;
  const smallFiles = opts.quick ? 10_000 : 200_000;
  const saves = opts.saves ?? (opts.quick ? 50 : 200);
  const rounds = opts.rounds ?? (opts.quick ? 5 : 20);
  const pairs = opts.pairs ?? (opts.quick ? 1 : 3);
  const commits = opts.commits ?? (opts.quick ? 10 : 50);
  fs.mkdirSync(dir, { recursive: true });
  if (os.loadavg()[0] > 0.5)
    log(
      `warning: load average ${os.loadavg()[0].toFixed(2)} before starting: other work on the machine will skew the figures`,
    );
  log(
    `work folder ${dir}; ${opts.quick ? 'quick' : 'full'} run; GNU time ${hasGnuTime() ? 'found' : 'missing: polling /proc for RSS'}`,
  );

  // Which tools can run at all. A missing one is reported, never silently dropped.
  const results: Partial<Record<ToolName, ToolResult>> = {};
  for (const name of opts.tools) {
    let reason: string | undefined;
    let detail: string | undefined;
    if (name === 'ours') {
      reason = OursCliTool.exists(cliPath) ? undefined : 'not built';
      detail = `${cliPath} does not exist: build it first (npm run build)`;
    } else {
      reason = which(name) ? undefined : 'not installed';
      detail = `${name} is not on PATH`;
    }
    results[name] = {
      name,
      label: toolLabels[name],
      available: reason === undefined,
      unavailableReason: reason,
      measures: {},
      details: {},
    };
    if (reason) {
      results[name]!.details.unavailable = detail;
      log(`${toolLabels[name]}: ${reason}: ${detail}`);
    }
  }
  const order = opts.tools;
  const failures: string[] = [];
  const record = (tool: ToolName, key: MeasureKey, value: MeasureValue): void => {
    results[tool]!.measures[key] = value;
  };
  /** Runs one measured step for one tool; a failure is recorded against that figure and the run goes on. */
  const attempt = async <T>(
    tool: ToolName,
    what: string,
    keys: MeasureKey[],
    fn: () => Promise<T>,
  ): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const text = errorText(e);
      failures.push(`${toolLabels[tool]}: ${what}: ${text}`);
      log(`${toolLabels[tool]}: ${what} FAILED: ${text}`);
      for (const key of keys) record(tool, key, { error: text });
      return undefined;
    }
  };

  const env: StepEnv = { results, record, attempt, failures, log };
  const environment = {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemBytes: os.totalmem(),
    git: which('git') ? version('git', ['--version']) : 'not installed',
    restic: which('restic') ? version('restic', ['version']) : 'not installed',
    borg: which('borg') ? version('borg', ['--version']) : 'not installed',
    // Other work on the machine skews every figure; the load average at start and end says how much.
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    rssMethod: hasGnuTime()
      ? '/usr/bin/time -f %M (ru_maxrss of the process and its waited-for children)'
      : 'polled /proc VmHWM/VmRSS every 20 ms',
  };
  const notes = [
    'All stores, restores and the workspace are on the same disk; the OS page cache is not dropped between tools (that needs root), so every tool reads a warm workspace.',
    "Tools run one after another on the same workspace state for every step; `sync` runs (untimed) before each measured step so one tool's pending writeback does not slow the next.",
    `Steps whose time depends on the disk\'s state (first snapshots, restores of everything; in the editor path every compared step) run ${pairs} time(s), the tools\' order alternating (A B, B A, ...); cells give the median and ratios are the median of the per-pair ratios, with their spread (min-max).`,
    'The editor path runs in this process through src/core as the extension does (SaveQueue on save, the schedule claim and a full scan, a fresh open + history + full scan at start-up, preview then restore); the longest event-loop block is the longest gap between ticks of a 2 ms timer beside the work, less 2 ms.',
    'Store size = apparent size (sum of file sizes) of the store folder; restic/borg caches live outside it and are listed in details, not counted.',
    'Times are wall-clock times of the whole command including process start-up, except on-save for Project Backup (in process, as in the editor) and plain copy (fs.copyFile in process).',
    'On-save for restic and borg runs at most 20 saves (5 with --quick): each is a separate whole snapshot command of one file.',
    'MB in targets is 10^6 bytes; table sizes are binary (KiB/MiB/GiB).',
    'Other figures are one run (on-save: percentiles of many saves). The load average at start and end is printed and in results.json; on a busy machine, rerun before reading much into small differences.',
  ];
  let manifest: WorkspaceManifest | undefined; // eslint-disable-line prefer-const -- assigned in a phase below
  let smallWorkspace: WorkspaceManifest | undefined;
  const resultsFile = path.resolve(opts.json ?? path.join(dir, 'results.json'));
  const sections: Sections = { skipped: {} };
  const writeResults = (phase: string): void => {
    const verdicts = evaluateTargets(results);
    const out = {
      phase,
      mode: opts.quick ? 'quick' : 'full',
      durationS: Math.round((performance.now() - startedAt) / 100) / 10,
      date: new Date().toISOString(),
      parameters: {
        files,
        bigFileBytes: bigBytes,
        smallFiles: opts.skipSmall ? 0 : smallFiles,
        rounds,
        saves,
        pairs,
        commits,
        skipped: [...opts.skip],
      },
      environment: { ...environment, loadAverageNow: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      workspace: manifest,
      smallWorkspace,
      notes,
      tools: results,
      targets: verdicts,
      sections,
      verdicts: report().verdicts,
      failures,
    };
    fs.writeFileSync(resultsFile, JSON.stringify(out, null, 2) + '\n');
  };

  /** Every section's table and every target's verdict, from what has been measured so far. */
  function report(): { text: string; verdicts: Verdict[] } {
    const defs = measureDefs({ files, rounds, bigMiB: bigBytes / (1 << 20), smallFiles, saves });
    const verdicts = cliVerdicts(evaluateTargets(results), new Map(defs.map((d) => [d.key, d.label])));
    const parts: string[] = [];
    const skippedLine = (name: string) => (sections.skipped[name] ? `(${sections.skipped[name]})` : undefined);
    if (!opts.skip.has('cli')) {
      const shown = opts.skipSmall ? defs.filter((d) => !/Small/.test(d.key)) : defs;
      parts.push(
        `CLI, every tool (first snapshot and restore all: median of ${pairs} alternating repetitions; ratios pair by pair, median (min-max)):\n\n` +
          renderTable(shown, results, order, evaluateTargets(results)),
      );
      if (opts.skipSmall)
        parts.push(
          `the ${smallFiles.toLocaleString('en-US')}-file step (time and peak RSS of first snapshot, no change, restore all, verify): skipped (--skip-200k)`,
        );
      if (!opts.skipSmall) parts.push(renderMemory(results, order, smallWorkspace?.fileCount ?? smallFiles));
    }
    if (sections.editorPath) {
      parts.push(renderEditorPath(sections.editorPath, verdicts));
      parts.push(
        renderBlocks(
          `longest event-loop block, in process (${files.toLocaleString('en-US')} files)`,
          sections.editorPath.blocks,
          verdicts,
          'event loop',
        ),
      );
    } else parts.push(`editor path, in process: ${skippedLine('editor') ?? '(not run)'}`);
    if (sections.blocksAtScale)
      parts.push(
        renderBlocks(
          `longest event-loop block, in process (${smallWorkspace?.fileCount.toLocaleString('en-US') ?? smallFiles} files)`,
          sections.blocksAtScale,
          verdicts,
          'event loop at scale',
        ),
      );
    else
      parts.push(
        `longest event-loop block at ${smallFiles.toLocaleString('en-US')} files: ${skippedLine('blocksAtScale') ?? '(not run)'}`,
      );
    if (sections.storeScale) parts.push(renderScale(sections.storeScale, verdicts));
    else parts.push(`CLI cost against the number of snapshots: ${skippedLine('scale') ?? '(not run)'}`);
    if (sections.replay) parts.push(renderReplay(sections.replay));
    else parts.push(`replay of real commits: ${skippedLine('replay') ?? '(not run)'}`);
    parts.push(`activation: ${ACTIVATION_NOTE}`);
    verdicts.push({
      section: 'activation',
      what: 'activation',
      target: '< 50 ms, opens nothing',
      measured: 'not measurable outside VS Code (the integration suite reports activationMs)',
      verdict: 'n/a',
    });
    parts.push('targets (#16):\n\n' + renderVerdicts(verdicts));
    return { text: parts.join('\n\n'), verdicts };
  }

  // ---- Phase A: the mixed workspace --------------------------------------------------------------------
  const pristine = path.join(dir, `ws-mixed-${files}`);
  manifest = ensureWorkspace(pristine, mixedParams(files, bigBytes, opts.quick), log);
  const runDir = path.join(dir, 'run');
  log(`clearing ${runDir}`);
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  const ws = path.join(runDir, 'ws');
  // Edits change the working copy, so each run starts from a fresh copy of the generated workspace.
  await runCommand({ cmd: 'cp', args: ['-a', pristine, ws] });
  const editor = new WorkspaceEditor(ws, manifest);

  const makeTool = (name: ToolName, ctx: ToolContext, withSaver: boolean): Tool => {
    switch (name) {
      case 'ours':
        // Loaded on first use: if the engine cannot load, only the on-save figure fails, not the whole run.
        return new OursCliTool(
          ctx,
          cliPath,
          withSaver ? async () => (await import('./ours')).openEngineSaver(ctx.store, ctx.ws) : undefined,
        );
      case 'git':
        return new GitTool(ctx);
      case 'restic':
        return new ResticTool(ctx);
      case 'borg':
        return new BorgTool(ctx);
      case 'cp':
        return new CopyTool(ctx);
    }
  };
  const context = (phase: string, name: ToolName, workspace: string): ToolContext => {
    const scratch = path.join(runDir, 'scratch', phase, name);
    fs.mkdirSync(scratch, { recursive: true });
    return { ws: workspace, store: path.join(runDir, 'stores', phase, name), scratch };
  };

  const phaseAKeys: MeasureKey[] = [
    'firstSnapshotMs',
    'firstSnapshotPeakRssBytes',
    'noChangeMs',
    'editRoundsMs',
    'bigEditMs',
    'bigEditGrowthBytes',
    'restoreAllMs',
    'restoreOneMs',
    'storeBytesAfterEdits',
    'onSaveP50Ms',
    'onSaveP99Ms',
  ];
  const tools = new Map<ToolName, Tool>();
  for (const name of order) {
    if (!results[name]!.available || opts.skip.has('cli')) continue;
    const tool = makeTool(name, context('mixed', name, ws), true);
    results[name]!.method = tool.method;
    const init = await attempt(name, 'init', phaseAKeys, () => tool.init());
    if (init) {
      results[name]!.details.initMs = init.ms;
      tools.set(name, tool);
    }
  }
  const storeBytes = (tool: Tool): number => tool.storeDirs().reduce((sum, d) => sum + dirSize(d), 0);
  const each = async (what: string, fn: (tool: Tool) => Promise<void>): Promise<void> => {
    for (const [name, tool] of tools) {
      log(`${toolLabels[name]}: ${what}`);
      settleDisk();
      await fn(tool);
    }
  };

  await fairFirstSnapshots(env, tools, pairs, (name, rep) => makeTool(name, context(`first-${rep}`, name, ws), false));

  await each('no-change snapshot', async (tool) => {
    const t = await attempt(tool.name, 'no-change snapshot', ['noChangeMs'], () => tool.snapshot({ measureRss: true }));
    if (!t) return;
    record(tool.name, 'noChangeMs', { value: t.ms });
    results[tool.name]!.details.noChangePeakRssBytes = t.peakRssBytes;
    if (t.detail) results[tool.name]!.details.noChangeOutput = t.detail;
  });

  const roundTimes = new Map<ToolName, number[]>();
  const roundFailed = new Set<ToolName>();
  const edits: unknown[] = [];
  for (let round = 1; round <= rounds; round++) {
    const e = editor.editRound(round);
    edits.push(e);
    log(`edit round ${round}/${rounds}: ${e.modified} modified, ${e.added} added, ${e.deleted} deleted`);
    for (const [name, tool] of tools) {
      if (roundFailed.has(name)) continue;
      settleDisk();
      const t = await attempt(name, `edit round ${round} snapshot`, ['editRoundsMs'], () =>
        tool.snapshot({ measureRss: false }),
      );
      if (!t) {
        roundFailed.add(name);
        continue;
      }
      roundTimes.set(name, [...(roundTimes.get(name) ?? []), t.ms]);
      if (round === rounds && t.detail) results[name]!.details.lastRoundOutput = t.detail;
    }
  }
  for (const [name, tool] of tools) {
    const times = roundTimes.get(name) ?? [];
    results[name]!.details.roundMs = times.map((ms) => Math.round(ms * 10) / 10);
    if (!roundFailed.has(name)) record(name, 'editRoundsMs', { value: times.reduce((a, b) => a + b, 0) });
    if (tool.compact) {
      results[name]!.details.storeBytesAfterEditsBeforeCompact = storeBytes(tool);
      log(`${toolLabels[name]}: compacting the store before measuring it`);
      const c = await attempt(name, 'compact', ['storeBytesAfterEdits'], () => tool.compact!());
      if (c) {
        results[name]!.details.compactMs = c.ms;
        if (c.detail) results[name]!.details.compactOutput = c.detail;
        record(name, 'storeBytesAfterEdits', { value: storeBytes(tool) });
      }
    } else {
      record(name, 'storeBytesAfterEdits', { value: storeBytes(tool) });
    }
    // A store that missed a snapshot holds less than the others: its size would flatter it.
    if (roundFailed.has(name) || results[name]!.measures.firstSnapshotMs?.value === undefined) {
      record(name, 'storeBytesAfterEdits', { error: 'not measured: an earlier snapshot of this tool failed' });
    }
    results[name]!.details.storeAllocatedBytesAfterEdits = tool.storeDirs().reduce((s, d) => s + dirAllocated(d), 0);
    results[name]!.details.cacheBytesAfterEdits = tool.cacheDirs().reduce((s, d) => s + dirSize(d), 0);
  }
  writeResults('after edit rounds');

  const bigEdit = editor.editBigFile();
  log(`4 KiB written at offset ${bigEdit.offset} of ${manifest.bigFile}`);
  await each('snapshot after the big-file edit', async (tool) => {
    const before = storeBytes(tool);
    const t = await attempt(tool.name, 'big-file edit snapshot', ['bigEditMs', 'bigEditGrowthBytes'], () =>
      tool.snapshot({ measureRss: false }),
    );
    if (!t) return;
    record(tool.name, 'bigEditMs', { value: t.ms });
    const intact = !roundFailed.has(tool.name) && results[tool.name]!.measures.firstSnapshotMs?.value !== undefined;
    // After a failed snapshot the store lacks the unchanged data, so the growth would count it as new.
    record(
      tool.name,
      'bigEditGrowthBytes',
      intact
        ? { value: storeBytes(tool) - before }
        : { error: 'not measured: an earlier snapshot of this tool failed' },
    );
    if (t.detail) results[tool.name]!.details.bigEditOutput = t.detail;
  });

  // Restores are checked after timing: a fast restore of the wrong bytes must not count.
  const current = listFiles(ws);
  const sampleRng = new Prng('restore-sample');
  const sample = [
    ...new Set([
      manifest.bigFile!,
      manifest.restoreOneFile,
      ...Array.from({ length: 40 }, () => sampleRng.pick(current)),
    ]),
  ];
  await fairRestoreAll(
    env,
    tools,
    pairs,
    (name, rep) => path.join(runDir, 'restore', name, `all-${rep}`),
    (root) => verifyTree(root, ws, current.length, sample),
  );
  await each('restore one file', async (tool) => {
    const target = path.join(runDir, 'restore', tool.name, 'one');
    const t = await attempt(tool.name, 'restore one file', ['restoreOneMs'], () =>
      tool.restoreOne(manifest.restoreOneFile, target),
    );
    if (!t) return;
    const ok =
      fs.existsSync(t.file) && fs.readFileSync(t.file).equals(fs.readFileSync(path.join(ws, manifest.restoreOneFile)));
    if (!ok) {
      const text = `restore one file: ${t.file} is missing or differs from the workspace's ${manifest.restoreOneFile}`;
      failures.push(`${toolLabels[tool.name]}: ${text}`);
      record(tool.name, 'restoreOneMs', { error: text });
      return;
    }
    record(tool.name, 'restoreOneMs', { value: t.ms });
  });
  writeResults('after restores');

  // On-save: the same file edit is followed by every tool's one-file snapshot, save after save.
  const savers = new Map<ToolName, { saver: Saver; times: number[]; max: number }>();
  for (const [name, tool] of tools) {
    if (!tool.openSaver) {
      record(name, 'onSaveP50Ms', { skipped: 'n/a' });
      record(name, 'onSaveP99Ms', { skipped: 'n/a' });
      continue;
    }
    if (results[name]!.measures.firstSnapshotMs?.value === undefined) {
      // Saves into a store without the workspace's first snapshot would be measured in another situation.
      const error = 'not measured: the first snapshot of this tool failed';
      record(name, 'onSaveP50Ms', { error });
      record(name, 'onSaveP99Ms', { error });
      continue;
    }
    const saver = await attempt(name, 'open on-save snapshotter', ['onSaveP50Ms', 'onSaveP99Ms'], () =>
      tool.openSaver!(),
    );
    // restic and borg pay a whole snapshot command per save; --quick caps them further to stay quick.
    const cap = tool.maxSaves === undefined ? saves : opts.quick ? Math.min(5, tool.maxSaves) : tool.maxSaves;
    if (saver) savers.set(name, { saver, times: [], max: Math.min(saves, cap) });
  }
  log(`on-save: ${saves} saves (${[...savers].map(([n, s]) => `${toolLabels[n]} ${s.max}`).join(', ')})`);
  const saveFailed = new Set<ToolName>();
  for (let i = 0; i < saves; i++) {
    const rel = editor.saveEdit(i);
    for (const [name, s] of savers) {
      if (i >= s.max || saveFailed.has(name)) continue;
      const ms = await attempt(name, `save ${i + 1} of ${rel}`, ['onSaveP50Ms', 'onSaveP99Ms'], () =>
        s.saver.save(rel),
      );
      if (ms === undefined) saveFailed.add(name);
      else s.times.push(ms);
    }
    if ((i + 1) % 50 === 0) log(`on-save: ${i + 1}/${saves} saves`);
  }
  for (const [name, s] of savers) {
    await attempt(name, 'close on-save snapshotter', [], () => s.saver.close());
    results[name]!.details.onSaveMs = s.times.map((ms) => Math.round(ms * 100) / 100);
    if (saveFailed.has(name)) continue;
    record(name, 'onSaveP50Ms', { value: percentile(s.times, 50) });
    record(name, 'onSaveP99Ms', { value: percentile(s.times, 99) });
    results[name]!.details.onSaveCount = s.times.length;
  }
  if (results.cp?.available)
    results.cp.details.note = 'store size counts every full copy; on-save copies are made after the store was measured';
  writeResults('after on-save');

  // ---- The editor's path in process, CLI cost against the store's size, real commits replayed ----------
  const section = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      const text = errorText(e);
      failures.push(`${name}: ${text}`);
      sections.skipped[name] = `FAILED: ${text}`;
      log(`${name} FAILED: ${text}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
    }
    writeResults(`after ${name}`);
  };
  if (opts.skip.has('editor')) sections.skipped.editor = 'skipped (--skip editor)';
  else {
    await section('editor', async () => {
      const edDir = path.join(runDir, 'editor');
      const edWs = path.join(edDir, 'ws');
      fs.mkdirSync(edDir, { recursive: true });
      await runCommand({ cmd: 'cp', args: ['-a', pristine, edWs] });
      log('editor path: in process (src/core) against a git shadow repository');
      sections.editorPath = await runEditorPath({
        ws: edWs,
        dir: edDir,
        editor: new WorkspaceEditor(edWs, manifest!),
        restoreOneFile: manifest!.restoreOneFile,
        saves,
        pairs,
        log,
      });
      fs.rmSync(edDir, { recursive: true, force: true });
    });
  }
  if (opts.skip.has('scale')) sections.skipped.scale = 'skipped (--skip scale)';
  else if (!OursCliTool.exists(cliPath)) sections.skipped.scale = `${cliPath} does not exist: build it first`;
  else {
    const counts = opts.quick ? [10, 200] : [10, 1_000, 5_000];
    await section('scale', async () => {
      sections.storeScale = await runStoreScale({
        dir: path.join(runDir, 'scale'),
        cliPath,
        counts,
        runs: opts.quick ? 3 : 5,
        log,
      });
    });
  }
  const noReplay = replayUnavailable(repoRoot, commits);
  if (opts.skip.has('replay')) sections.skipped.replay = 'skipped (--skip replay)';
  else if (noReplay) sections.skipped.replay = `skipped: ${noReplay}`;
  else if (!OursCliTool.exists(cliPath)) sections.skipped.replay = `${cliPath} does not exist: build it first`;
  else {
    await section('replay', async () => {
      log(`replay: the last ${commits} commits of ${repoRoot}`);
      sections.replay = await runReplay({ repoRoot, dir: path.join(runDir, 'replay'), cliPath, commits, log });
    });
  }

  // ---- Phase B: 200,000 small files: time and peak memory of every operation ---------------------------
  // The editor runs these in its extension host, beside every other extension: each must stay under the
  // peak-RSS target (report.ts PEAK_RSS_TARGET), and the table says MET or MISS.
  const phaseBKeys: MeasureKey[] = [
    'firstSmallMs',
    'noChangeSmallMs',
    'restoreSmallMs',
    'verifySmallMs',
    'peakRssSmallFirstBytes',
    'peakRssSmallNoChangeBytes',
    'peakRssSmallRestoreBytes',
    'peakRssSmallVerifyBytes',
  ];
  if (opts.skipSmall) {
    for (const name of order)
      if (results[name]!.available)
        for (const key of phaseBKeys) record(name, key, { skipped: 'skipped (--skip-200k)' });
    sections.skipped.blocksAtScale = `skipped (--skip-200k)`;
  } else {
    const smallDir = path.join(dir, `ws-small-${smallFiles}`);
    smallWorkspace = ensureWorkspace(smallDir, smallParams(smallFiles), log);
    const smallCount = smallWorkspace.fileCount;
    // This workspace is only read (no edits), so the generated folder itself is backed up.
    for (const name of order) {
      if (!results[name]!.available || opts.skip.has('cli')) continue;
      await smallFilesStep(env, name, makeTool(name, context('small', name, smallDir), false), {
        smallFiles,
        smallCount,
        target: path.join(runDir, 'restore-small', name),
      });
      writeResults(`after the ${smallFiles}-file step of ${toolLabels[name]}`);
    }
    if (opts.skip.has('blocks')) sections.skipped.blocksAtScale = 'skipped (--skip blocks)';
    else {
      await section('blocksAtScale', async () => {
        sections.blocksAtScale = await blocksAtScale(smallDir, path.join(runDir, 'blocks-small'), log);
      });
    }
  }

  writeResults('done');
  process.stdout.write(
    `\nProject Backup benchmark (${opts.quick ? 'quick' : 'full'}): ${manifest.fileCount} files / ${formatMiB(manifest.totalBytes)}` +
      ` workspace, ${os.cpus().length} CPUs, node ${process.version}, load average ${environment.loadAverageAtStart.join(' ')} at start, ` +
      `${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at end\n\n`,
  );
  process.stdout.write(report().text + '\n\n');
  for (const name of order) {
    const r = results[name]!;
    if (r.method) process.stdout.write(`${r.label}: ${r.method}\n`);
    else if (r.details.unavailable)
      process.stdout.write(`${r.label}: ${r.unavailableReason}: ${String(r.details.unavailable)}\n`);
  }
  process.stdout.write('\n' + notes.map((n) => `note: ${n}`).join('\n') + '\n');
  if (failures.length > 0) {
    const indented = failures.map((f) => `- ${f.replace(/\n/g, '\n    ')}`);
    process.stdout.write(`\n${failures.length} measured step(s) failed:\n${indented.join('\n')}\n`);
  }
  process.stdout.write(`\nresults: ${resultsFile} (${((performance.now() - startedAt) / 1000).toFixed(0)} s)\n`);
  return failures.length > 0 ? 1 : 0;
}

/** Returns undefined when the restored tree matches the workspace (file count and sampled contents). */
function verifyTree(root: string, ws: string, expectedCount: number, sample: string[]): string | undefined {
  if (!fs.existsSync(root)) return 'restored folder missing';
  const count = listFiles(root).length;
  if (count !== expectedCount) return `${count} files restored, workspace has ${expectedCount}`;
  for (const rel of sample) {
    const restored = path.join(root, rel);
    if (!fs.existsSync(restored)) return `${rel} missing`;
    if (!fs.readFileSync(restored).equals(fs.readFileSync(path.join(ws, rel)))) return `${rel} differs`;
  }
  return undefined;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) process.stderr.write(`bench: ${e.message}\n`);
    else
      process.stderr.write(
        `bench: ${errorText(e)}\n${e instanceof Error && !(e instanceof CommandFailed) ? (e.stack ?? '') : ''}\n`,
      );
    process.exit(2);
  },
);
