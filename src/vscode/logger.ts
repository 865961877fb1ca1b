// The "Project Backup" log: a LogOutputChannel behind a small interface, so the rest of the editor layer
// (and anything it hands to core) logs without knowing about VS Code.

import * as vscode from 'vscode';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  debug(message: string): void;
}

export class ChannelLogger implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Project Backup', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }
  warn(message: string): void {
    this.channel.warn(message);
  }
  error(message: string, error?: unknown): void {
    if (error instanceof Error && !(error as { code?: unknown }).code) this.channel.error(`${message}: ${error.stack ?? error.message}`);
    else this.channel.error(message);
  }
  debug(message: string): void {
    this.channel.debug(message);
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
