// URIs of file versions: `backup-snapshot:/<workspace-relative path>?store=…&snapshot=…`. The path keeps
// the real file name, so VS Code picks the language (syntax colouring) and the diff editor titles it.

import * as vscode from 'vscode';
import { SCHEME } from './commandIds';

export interface VersionRef {
  store: string;
  snapshot: string;
  /** Workspace-relative slash path. */
  path: string;
}

export function toSnapshotUri(ref: VersionRef): vscode.Uri {
  const query = new URLSearchParams({ store: ref.store, snapshot: ref.snapshot }).toString();
  return vscode.Uri.from({ scheme: SCHEME, path: `/${ref.path}`, query });
}

export function fromSnapshotUri(uri: vscode.Uri): VersionRef {
  if (uri.scheme !== SCHEME) throw new Error(`Not a snapshot URI: ${uri.toString()}`);
  const params = new URLSearchParams(uri.query);
  const store = params.get('store');
  const snapshot = params.get('snapshot');
  if (!store || !snapshot) throw new Error(`Incomplete snapshot URI: ${uri.toString()}`);
  return { store, snapshot, path: uri.path.replace(/^\//, '') };
}
