// Encrypted stores from the editor: start a new encrypted store (the existing one is kept as it is),
// unlock a store whose passphrase prompt was cancelled, and forget a remembered passphrase. The passphrase
// is typed hidden, kept only in the system keychain, and never logged.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { BackupError } from '../../core/errors';
import { Repository } from '../../core/repository/repository';
import { SECTION, storePathLevel } from '../configuration';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder, uriArg } from './shared';

export function encryptStore(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Encrypt', async () => {
    const folder = await pickFolder(ctx, 'Start an encrypted store for which folder?', uriArg(arg));
    if (!folder) return;
    const current = ctx.service.localStorePath(folder);
    const target = await ctx.prompter.pickTargetFolder(
      'Choose an empty folder for the new encrypted store',
      'Create Encrypted Store Here',
    );
    if (!target) return;
    const location = target.fsPath;
    if (fs.existsSync(location) && fs.readdirSync(location).some((name) => !name.startsWith('.'))) {
      throw new BackupError(
        'REPO_NOT_FOUND',
        `${location} is not empty; choose an empty or new folder for the encrypted store.`,
      );
    }
    const passphrase = await ctx.prompter.askSecret(
      'Passphrase for the new encrypted store',
      'If you lose it, the backups cannot be recovered by anyone',
    );
    if (!passphrase) return;
    const again = await ctx.prompter.askSecret('Type the passphrase again', 'to be sure it is the one you meant');
    if (again === undefined) return;
    if (again !== passphrase) throw new BackupError('USAGE', 'The two passphrases differ; nothing was created.');
    // The setting is changed where it is set now, so the new value wins (a folder's own value over the user's).
    const config = vscode.workspace.getConfiguration(SECTION, folder.uri);
    const level = storePathLevel(folder);
    const scope =
      level === vscode.ConfigurationTarget.Global
        ? 'of every workspace that uses your default store'
        : `of ${folder.name}`;
    const understood = await ctx.prompter.confirm(
      `Create an encrypted store at ${location}? New snapshots ${scope} go there; the store at ${current} is kept as it is. If the passphrase is lost, the encrypted backups cannot be recovered: keep it in a password manager.`,
      'Create Encrypted Store',
    );
    if (!understood) return;
    const repo = await Repository.open(location, { create: true, encrypt: true, passphrase: async () => passphrase });
    await ctx.keychain.rememberPassphrase(repo.location, passphrase);
    await config.update('storePath', repo.location, level);
    if (ctx.service.localStorePath(folder) !== repo.location) {
      throw new BackupError(
        'USAGE',
        `The encrypted store is ready at ${repo.location}, but ${folder.name} still uses ${ctx.service.localStorePath(folder)} (a setting elsewhere wins); set projectBackup.storePath to ${repo.location}.`,
      );
    }
    ctx.log.info(`Encrypted store created at ${repo.location}; ${current} is kept as it was.`);
    await ctx.service.snapshotFolder(folder, { trigger: 'manual', label: 'first snapshot in the encrypted store' });
    void ctx.healthView.refresh();
    void vscode.window.showInformationMessage(
      `Backups of ${folder.name} now go to the encrypted store at ${repo.location}. The old store at ${current} is unchanged.`,
    );
    if (ctx.service.settings(folder).destinations.some((d) => d.store === current)) {
      // A destination holds one store: copies of the old one stay there, the new store needs folders of its own.
      void vscode.window
        .showWarningMessage(
          'Your backup destinations hold copies of the old store. Add new destinations for the encrypted store; the old copies stay as they are.',
          'Add Destination',
        )
        .then((choice) => choice && vscode.commands.executeCommand('backup.addDestination', folder.uri));
    }
  });
}

export function unlockStore(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Unlock', async () => {
    const folder = await pickFolder(ctx, 'Unlock the store of which folder?', uriArg(arg));
    if (!folder) return;
    const store = ctx.service.storePathFor(folder);
    ctx.keychain.allowAsking(store);
    ctx.service.forgetStore(store);
    const repo = await ctx.service.repository(folder);
    void ctx.healthView.refresh();
    ctx.service.fireChanged(folder);
    void vscode.window.showInformationMessage(
      repo.codec.encrypted ? `The encrypted store ${store} is unlocked.` : `The store ${store} is not encrypted.`,
    );
  });
}

export function forgetPassphrase(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Forget passphrase', async () => {
    const folder = await pickFolder(ctx, "Forget the passphrase of which folder's store?", uriArg(arg));
    if (!folder) return;
    const store = ctx.service.storePathFor(folder);
    await ctx.keychain.forgetPassphrase(store);
    void vscode.window.showInformationMessage(
      `The passphrase of ${store} is no longer kept; it will be asked for when the store is next opened.`,
    );
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.encryptStore, run: (ctx, arg) => encryptStore(ctx, arg) },
  { id: Commands.unlockStore, run: (ctx, arg) => unlockStore(ctx, arg) },
  { id: Commands.forgetPassphrase, run: (ctx, arg) => forgetPassphrase(ctx, arg) },
];
