// The "Project Backup" log: a LogOutputChannel behind a small interface, so the rest of the editor layer
// (and anything it hands to core) logs without knowing about VS Code.

import * as vscode from 'vscode';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  debug(message: string): void;
}

/** Lines kept in memory (the tests read them to prove what is and is never logged, such as passphrases). */
const RECENT_LINES = 1000;

export class ChannelLogger implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  readonly recent: string[] = [];

  constructor() {
    this.channel = vscode.window.createOutputChannel('Project Backup', { log: true });
  }

  private keep(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.splice(0, this.recent.length - RECENT_LINES);
  }

  info(message: string): void {
    this.keep(message);
    this.channel.info(message);
  }
  warn(message: string): void {
    this.keep(message);
    this.channel.warn(message);
  }
  error(message: string, error?: unknown): void {
    const line =
      error instanceof Error && !(error as { code?: unknown }).code
        ? `${message}: ${error.stack ?? error.message}`
        : message;
    this.keep(line);
    this.channel.error(line);
  }
  debug(message: string): void {
    this.keep(message);
    this.channel.debug(message);
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
