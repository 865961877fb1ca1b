// Typed errors for everything the engine can refuse or fail at.
// Each error carries a stable `code` and the data a front end needs; the CLI and the editor turn codes
// into one clear sentence (the message below is already that sentence), never a stack trace.

export type BackupErrorCode =
  | 'REPO_NOT_FOUND'
  | 'REPO_NEWER_FORMAT'
  | 'REPO_CORRUPT'
  | 'REPO_LOCKED'
  | 'PASSPHRASE_REQUIRED'
  | 'WRONG_PASSPHRASE'
  | 'OBJECT_MISSING'
  | 'OBJECT_DAMAGED'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SNAPSHOT_AMBIGUOUS'
  | 'PATH_NOT_FOUND'
  | 'UNSAFE_PATH'
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKSPACE_NOT_DIRECTORY'
  | 'WORKSPACE_UNKNOWN'
  | 'WORKSPACE_AMBIGUOUS'
  | 'RESTORE_CONFLICT'
  | 'NO_SPACE'
  | 'PERMISSION_DENIED'
  | 'IO_ERROR'
  | 'CANCELLED'
  | 'REMOTE_UNREACHABLE'
  | 'AUTH_FAILED'
  | 'HOST_KEY_REJECTED'
  | 'STORE_MISMATCH'
  | 'USAGE';

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export function isBackupError(error: unknown, code?: BackupErrorCode): error is BackupError {
  return error instanceof BackupError && (code === undefined || error.code === code);
}

/** Node's system errors carry a `code` such as ENOENT; this reads it without trusting the shape. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Turns a low-level file-system failure into one sentence that names what we were doing and where.
 * Errors that are already ours pass through unchanged.
 */
export function describeFsError(error: unknown, doing: string, where: string): Error {
  if (error instanceof BackupError) return error;
  switch (errnoCode(error)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new BackupError(
        'NO_SPACE',
        `The disk is full while ${doing} ${where}; nothing was lost, free some space and try again.`,
        { path: where },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new BackupError('PERMISSION_DENIED', `Permission denied while ${doing} ${where}.`, { path: where });
    case 'ENOENT':
      return new BackupError('PATH_NOT_FOUND', `${where} does not exist (while ${doing}).`, { path: where });
    case 'ENOTDIR':
      return new BackupError(
        'PATH_NOT_FOUND',
        `${where} cannot exist: a file is in the way of a folder on its path (while ${doing}).`,
        { path: where },
      );
    case 'ENAMETOOLONG':
      return new BackupError(
        'PATH_NOT_FOUND',
        `${where} is longer than this file system allows for a name or a path (while ${doing}).`,
        { path: where },
      );
    case 'ELOOP':
      return new BackupError(
        'PATH_NOT_FOUND',
        `${where} cannot be reached: its path runs through a loop of symlinks (while ${doing}).`,
        { path: where },
      );
    case 'EISDIR':
      return new BackupError('IO_ERROR', `${where} is a folder where a file was expected (while ${doing}).`, {
        path: where,
      });
    default: {
      // Node's own text ("EIO: i/o error, read") is not a sentence for a user: name the system's code only.
      const code = errnoCode(error);
      const detail =
        code && /^E[A-Z0-9]+$/.test(code)
          ? ` (${code})`
          : error instanceof Error && !code
            ? `: ${error.message.replace(/\.$/, '')}`
            : '';
      return new BackupError('IO_ERROR', `Input/output error while ${doing} ${where}${detail}.`, { path: where });
    }
  }
}
