// Workspace identity: where it is and a stable id, so one store can hold several workspaces and each
// snapshot knows whose it is. The id derives from the real path, so a symlinked or relative spelling of the
// same folder is the same workspace.

import * as path from 'node:path';
import { BackupError, errnoCode } from '../errors';
import { sha256Hex } from '../repository/codec';
import type { FsPort } from '../storage/fsPort';

export interface WorkspaceIdentity {
  path: string;
  id: string;
}

export function workspaceIdFor(realPath: string): string {
  return sha256Hex(`workspace:${realPath}`).slice(0, 16);
}

/** Resolves and checks a workspace folder; one clear error when it is missing or not a folder. */
export async function identifyWorkspace(port: FsPort, folder: string): Promise<WorkspaceIdentity> {
  const abs = path.resolve(folder);
  let real: string;
  try {
    real = await port.realpath(abs);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      throw new BackupError('WORKSPACE_NOT_FOUND', `The workspace folder ${abs} does not exist.`, { path: abs });
    }
    throw new BackupError(
      'WORKSPACE_NOT_FOUND',
      `The workspace folder ${abs} cannot be opened (${errnoCode(error) ?? 'error'}).`,
      { path: abs },
    );
  }
  const stat = await port.stat(real);
  if (!stat.isDirectory()) {
    throw new BackupError('WORKSPACE_NOT_DIRECTORY', `The workspace ${abs} is a file, not a folder.`, { path: abs });
  }
  return { path: real, id: workspaceIdFor(real) };
}
