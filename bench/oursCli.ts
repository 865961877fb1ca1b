// Project Backup driven through its command line (dist/cli.js), the same way the peers are driven, so
// process start-up is paid by every tool alike. The on-save figure is measured in process (ours.ts).

import * as fs from 'fs';
import * as path from 'path';
import { runCommand, type CommandSpec } from './measure';
import type { ToolContext } from './peers';
import type { Saver, Timed, Tool, ToolName } from './tool';

export class OursCliTool implements Tool {
  readonly name: ToolName = 'ours';
  readonly method: string;

  constructor(
    private readonly ctx: ToolContext,
    private readonly cliPath: string,
    saverFactory?: () => Promise<Saver>,
  ) {
    this.method =
      `node ${path.relative(process.cwd(), cliPath) || cliPath} snapshot WS --repo STORE --json; restore latest --target ` +
      '(--path for one file); verify --repo STORE; save: Snapshotter.snapshot({paths:[file]}) in process on a long-lived Repository';
    if (saverFactory) this.openSaver = saverFactory;
  }

  openSaver?: () => Promise<Saver>;

  private cli(args: string[]): CommandSpec {
    return { cmd: process.execPath, args: [this.cliPath, ...args], cwd: this.ctx.ws };
  }

  async init(): Promise<Timed> {
    // The first snapshot creates the store; there is no separate init step to time.
    return { ms: 0 };
  }

  async snapshot(options: { measureRss: boolean }): Promise<Timed> {
    const r = await runCommand(this.cli(['snapshot', this.ctx.ws, '--repo', this.ctx.store, '--json']), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, detail: parseJson(r.stdout) };
  }

  async restoreAll(target: string, options: { measureRss?: boolean } = {}): Promise<Timed & { root: string }> {
    const r = await runCommand(this.cli(['restore', 'latest', '--repo', this.ctx.store, '--target', target]), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, root: target };
  }

  async verify(options: { measureRss: boolean }): Promise<Timed> {
    const r = await runCommand(this.cli(['verify', '--repo', this.ctx.store]), options);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes };
  }

  async restoreOne(relPath: string, target: string): Promise<Timed & { file: string }> {
    const r = await runCommand(
      this.cli(['restore', 'latest', '--repo', this.ctx.store, '--target', target, '--path', relPath]),
    );
    return { ms: r.ms, file: path.join(target, relPath) };
  }

  storeDirs(): string[] {
    return [this.ctx.store];
  }

  cacheDirs(): string[] {
    return [];
  }

  static exists(cliPath: string): boolean {
    return fs.existsSync(cliPath);
  }
}

/** The CLI prints one JSON object; anything else is kept verbatim so the report shows what it said. */
function parseJson(stdout: string): Record<string, unknown> {
  const text = stdout.trim();
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // Fall through: report the raw output rather than guess.
  }
  return { unparsedStdout: text.slice(0, 500) };
}
