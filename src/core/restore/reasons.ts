// Why one entry of a restore (or mirror) failed, as the short reason printed after its path. Raw Node
// errors never reach the user: every failure becomes a phrase of ours, whatever the store held.

import { BackupError, errnoCode } from '../errors';

export function reasonOf(error: unknown): string {
  if (error instanceof BackupError) return error.message;
  switch (errnoCode(error)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the target is on a read-only file system';
    case 'ENAMETOOLONG':
      return 'its name or path is longer than this file system allows';
    case 'ENOENT':
      return 'a folder on its path was removed while the restore ran';
    case 'ENOTDIR':
      return 'a file is in the way of a folder on its path';
    case 'EISDIR':
    case 'ENOTEMPTY':
    case 'EEXIST':
      return 'something else is in its place';
    case 'EIO':
      return 'an input/output error on the target disk';
    case 'EXDEV':
      return 'its folder is on another file system than the temp file';
    default:
      // ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE and the like: a value from the store the OS cannot take.
      return 'the store holds a value for it that cannot be written here';
  }
}
