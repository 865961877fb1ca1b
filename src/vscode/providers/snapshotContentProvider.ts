// Serves file versions read-only under our own scheme, so the diff editor, syntax colouring and search
// work on them. Content comes straight from the store, verified by the repository as it is read.

import * as vscode from 'vscode';
import { Repository } from '../../core/repository/repository';
import { readWholeFile } from '../../core/query/browse';
import { fromSnapshotUri } from '../snapshotUri';
import type { Logger } from '../logger';

export class SnapshotContentProvider implements vscode.TextDocumentContentProvider {
  private readonly repos = new Map<string, Promise<Repository>>();

  constructor(
    private readonly openRepo: (store: string) => Promise<Repository> | undefined,
    private readonly log: Logger,
    /** Opens a store no folder uses (asking for its passphrase if it is encrypted). */
    private readonly openOther: (store: string) => Promise<Repository> = (store) => Repository.open(store),
  ) {}

  private repo(store: string): Promise<Repository> {
    const shared = this.openRepo(store);
    if (shared) return shared;
    // A version from a store no folder uses any more (the setting changed): open it read-only here.
    let repo = this.repos.get(store);
    if (!repo) this.repos.set(store, (repo = this.openOther(store)));
    repo.catch(() => this.repos.delete(store));
    return repo;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = fromSnapshotUri(uri);
    try {
      const repo = await this.repo(ref.store);
      const snapshot = await repo.loadSnapshot(ref.snapshot);
      return (await readWholeFile(repo, snapshot, ref.path)).toString('utf8');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Cannot open ${ref.path} from snapshot ${ref.snapshot.slice(0, 8)}: ${message}`);
      throw new Error(message);
    }
  }
}
