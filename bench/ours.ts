// Project Backup's on-save path measured in process, as the editor runs it: one long-lived Repository and
// Snapshotter, one changed file per save. This is the only bench module that imports the engine, so the
// rest of bench/ compiles and runs on its own.

import { Repository } from '../src/core/repository/repository';
import { Snapshotter } from '../src/core/snapshot/snapshotter';
import type { Saver } from './tool';

export async function openEngineSaver(storeDir: string, wsDir: string): Promise<Saver> {
  // Opening is not timed: the editor opens the repository once per session, not per save.
  const repo = await Repository.open(storeDir, { create: true });
  const snapshotter = new Snapshotter(repo, { workspace: wsDir, trigger: 'save' });
  return {
    save: async (relPath) => {
      const started = performance.now();
      const result = await snapshotter.snapshot({ paths: [relPath] });
      const ms = performance.now() - started;
      // A save that changed a file must produce a snapshot; a silent no-op would make the timing meaningless.
      if (!result.created) throw new Error(`engine reported no new snapshot after saving ${relPath}`);
      return ms;
    },
    close: () => repo.close(),
  };
}
