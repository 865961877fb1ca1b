// Command, view and context-key ids in one place; they match package.json.

export const Commands = {
  snapshotWorkspace: 'backup.snapshotWorkspace',
  showFileHistory: 'backup.showFileHistory',
  openVersion: 'backup.openVersion',
  compareWithCurrent: 'backup.compareWithCurrent',
  compareWithPrevious: 'backup.compareWithPrevious',
  selectForCompare: 'backup.selectForCompare',
  compareWithSelected: 'backup.compareWithSelected',
  restoreFile: 'backup.restoreFile',
  restoreFileTo: 'backup.restoreFileTo',
  copyPath: 'backup.copyPath',
  restoreSnapshot: 'backup.restoreSnapshot',
  restoreFolder: 'backup.restoreFolder',
  labelSnapshot: 'backup.labelSnapshot',
  pinSnapshot: 'backup.pinSnapshot',
  unpinSnapshot: 'backup.unpinSnapshot',
  deleteSnapshot: 'backup.deleteSnapshot',
  undoLastRestore: 'backup.undoLastRestore',
  refresh: 'backup.refresh',
  showLog: 'backup.showLog',
  openSettings: 'backup.openSettings',
  verifyBackups: 'backup.verifyBackups',
  exportFullArchive: 'backup.exportFullArchive',
  exportDifferentialArchive: 'backup.exportDifferentialArchive',
  exportIncrementalArchive: 'backup.exportIncrementalArchive',
  searchHistory: 'backup.searchHistory',
  showHealth: 'backup.showHealth',
  refreshHealth: 'backup.refreshHealth',
  addDestination: 'backup.addDestination',
  removeDestination: 'backup.removeDestination',
  replicateNow: 'backup.replicateNow',
  setDestinationCredentials: 'backup.setDestinationCredentials',
  encryptStore: 'backup.encryptStore',
  unlockStore: 'backup.unlockStore',
  forgetPassphrase: 'backup.forgetPassphrase',
  useDestination: 'backup.useDestination',
  useLocalStore: 'backup.useLocalStore',
  recreateStore: 'backup.recreateStore',
  restoreProject: 'backup.restoreProject',
  openSnapshotAsFolder: 'backup.openSnapshotAsFolder',
  showSelectionHistory: 'backup.showSelectionHistory',
  restoreSelection: 'backup.restoreSelection',
  includeGitFolder: 'backup.includeGitFolder',
  openStore: 'backup.openStore',
  bringBackStore: 'backup.bringBackStore',
  markOffsite: 'backup.markOffsite',
  markOnsite: 'backup.markOnsite',
  filterSnapshots: 'backup.filterSnapshots',
  clearSnapshotFilter: 'backup.clearSnapshotFilter',
  goToTime: 'backup.goToTime',
} as const;

export const Views = {
  container: 'projectBackup',
  snapshots: 'projectBackup.snapshots',
  fileHistory: 'projectBackup.fileHistory',
  health: 'projectBackup.health',
} as const;

export const ContextKeys = {
  canUndoRestore: 'projectBackup.canUndoRestore',
  hasCompareSelection: 'projectBackup.hasCompareSelection',
  /** The Snapshots view is empty for this folder, but its store holds other workspaces (welcome content). */
  otherWorkspaces: 'projectBackup.otherWorkspaces',
  /** The Snapshots view shows a filtered timeline (its title bar offers to clear it). */
  filtered: 'projectBackup.filtered',
} as const;

export const SCHEME = 'backup-snapshot';
