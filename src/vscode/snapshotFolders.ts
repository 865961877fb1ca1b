// "Backup: Open Snapshot as Folder" (#15): a whole snapshot as a read-only workspace folder, so Quick Open,
// Search across files, Go to Definition and the Explorer work on the old code; removing the folder from the
// workspace deletes it.
//
// Design: the snapshot is restored into a folder of its own under the extension's storage (files 0444,
// folders 0555) and added as a `file:` workspace folder. A read-only FileSystemProvider on our own scheme
// was the first idea, but on stable API VS Code's Quick Open and Search work only for `file:` folders: the
// file and text search providers a custom scheme needs are proposed API (microsoft/vscode#59921, and
// #70409 "out of scope" for a FileSystemProvider fallback), and a folder of a scheme without one breaks
// Search for the other folders too (#58370). A real folder makes every tool work, on every OS.
// Invariants: it never writes to the store or a workspace; the backup service never backs these folders up
// (BackupService.folders leaves out everything under `root`); what is not in the workspace any more is
// deleted at the next activation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatTime, shortId } from '../core/format';
import { listTree } from '../core/query/browse';
import type { Repository } from '../core/repository/repository';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { applyRestore, planRestore } from '../core/restore/restoreJob';
import { isInside } from './configuration';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

/** A finished folder carries this marker (an interrupted one is made again); its time is the lease. */
const COMPLETE = '.project-backup-snapshot';
/** How long an opened snapshot outlives the last window that renewed it. */
const LEASE_MS = 24 * 3_600_000;

export class SnapshotFolders extends Disposable {
  constructor(
    /** Where opened snapshots live (the extension's global storage). */
    readonly root: string,
    private readonly log: Logger,
  ) {
    super();
    const renew = setInterval(() => void this.sweep(), 3_600_000);
    this.register({ dispose: () => clearInterval(renew) });
    this.register(
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const removed of e.removed) if (this.owns(removed.uri)) void this.remove(removed.uri.fsPath);
      }),
    );
  }

  /** Whether a folder is one of ours (an opened snapshot), never to be backed up. */
  owns(uri: vscode.Uri): boolean {
    return (
      uri.scheme === 'file' && isInside(uri.fsPath, this.root) && path.resolve(uri.fsPath) !== path.resolve(this.root)
    );
  }

  /**
   * Deletes opened snapshots no window uses any more. Another window may have one open, so a folder not open
   * here goes only when its lease (the marker's time, renewed hourly by each window that shows it) is older
   * than LEASE_MS; this window's own are renewed now.
   */
  async sweep(now = Date.now()): Promise<void> {
    const open = new Set(
      (vscode.workspace.workspaceFolders ?? []).filter((f) => this.owns(f.uri)).map((f) => path.resolve(f.uri.fsPath)),
    );
    let names: string[] = [];
    try {
      names = await fs.promises.readdir(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = path.join(this.root, name);
      const marker = path.join(dir, COMPLETE);
      if (open.has(dir)) {
        await fs.promises.utimes(marker, new Date(now), new Date(now)).catch(() => undefined);
        continue;
      }
      const leased = await fs.promises.stat(marker).then(
        (s) => now - s.mtimeMs < LEASE_MS,
        () => false,
      );
      if (!leased) await this.remove(dir);
    }
  }

  /**
   * Restores `snapshot` into a read-only folder (reused when it is already there) and adds it to the
   * workspace; resolves to the folder's path once VS Code lists it.
   */
  async open(repo: Repository, snapshot: SnapshotRecord, workspaceName: string): Promise<string> {
    const dir = path.join(this.root, `${safeName(workspaceName)}-${shortId(snapshot.id)}`);
    if (!fs.existsSync(path.join(dir, COMPLETE))) {
      await this.remove(dir);
      const building = `${dir}.building`;
      await this.remove(building);
      await fs.promises.mkdir(building, { recursive: true });
      await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Opening the snapshot of ${formatTime(snapshot.time)}…`,
        },
        async () => {
          // Its .git stays out: the old history is the snapshot itself, and a repository in a read-only folder
          // would have the git extension fail at every refresh.
          const top = (await listTree(repo, snapshot, '')).map((e) => e.path).filter((p) => p !== '.git');
          const result = top.length
            ? await applyRestore(await planRestore(repo, snapshot, { target: building, paths: top }))
            : { problems: [] };
          for (const p of result.problems) this.log.warn(`Open Snapshot as Folder: ${p.path}: ${p.reason}`);
        },
      );
      await fs.promises.writeFile(
        path.join(building, COMPLETE),
        `${JSON.stringify({ snapshot: snapshot.id, time: snapshot.time, workspace: snapshot.workspace.path })}\n`,
      );
      await makeReadOnly(building);
      await fs.promises.rename(building, dir);
    }
    const uri = vscode.Uri.file(dir);
    const existing = vscode.workspace.workspaceFolders?.find((f) => path.resolve(f.uri.fsPath) === dir);
    if (existing) return dir;
    const added = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        if (e.added.some((f) => path.resolve(f.uri.fsPath) === dir)) {
          sub.dispose();
          resolve();
        }
      });
    });
    const at = vscode.workspace.workspaceFolders?.length ?? 0;
    if (
      !vscode.workspace.updateWorkspaceFolders(at, 0, {
        uri,
        name: `${workspaceName} @ ${formatTime(snapshot.time)} (read-only)`,
      })
    ) {
      throw new Error(`VS Code did not add ${dir} to the workspace.`);
    }
    await added;
    this.log.info(`Opened snapshot ${shortId(snapshot.id)} of ${workspaceName} as the read-only folder ${dir}.`);
    return dir;
  }

  /** Removes an opened snapshot's folder from the workspace (its files go with it). */
  close(dir: string): boolean {
    const index =
      vscode.workspace.workspaceFolders?.findIndex((f) => path.resolve(f.uri.fsPath) === path.resolve(dir)) ?? -1;
    return index >= 0 && vscode.workspace.updateWorkspaceFolders(index, 1);
  }

  private async remove(dir: string): Promise<void> {
    if (!isInside(dir, this.root) || path.resolve(dir) === path.resolve(this.root)) return;
    try {
      await makeWritable(dir);
      await fs.promises.rm(dir, { recursive: true, force: true });
    } catch (error) {
      this.log.warn(
        `Could not remove the opened snapshot ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'workspace';
}

/** Files 0444, folders 0555: the old code is for reading, and an editor says so when one tries to save. */
async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(abs);
    else if (entry.isFile()) await fs.promises.chmod(abs, 0o444);
  }
  await fs.promises.chmod(dir, 0o555);
}

async function makeWritable(dir: string): Promise<void> {
  let entries: fs.Dirent[];
  try {
    await fs.promises.chmod(dir, 0o755);
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
}
