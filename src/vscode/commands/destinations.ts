// Offsite copies from the editor: add a destination (a folder or an SFTP server, with its credentials kept
// in the system keychain), replicate now, remove one, and browse a destination as the store when the local
// store is lost. Every change to the destination list goes to the user's settings (never the workspace's:
// a workspace must not choose where the user's backups go).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError } from '../../core/errors';
import { formatBytes, plural } from '../../core/format';
import { destinationKey } from '../../core/health/gather';
import { isRemoteLocation, isS3Location } from '../../core/storage/locate';
import { parseSftpLocation, privateKeyIsEncrypted, redactLocation } from '../../core/storage/remote';
import { parseS3Location } from '../../core/storage/s3Backend';
import { SECTION, isInside } from '../configuration';
import { reportFailure } from '../failures';
import { knownStoreMissing } from '../storeAccess';
import type { DestinationSetting } from '../configuration';
import type { DestinationCredentials } from '../keychain';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder, uriArg } from './shared';

/** The destination a health-view node or an argument names. */
function locationArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const copy = (arg as { copy?: { kind?: string; location?: string } } | undefined)?.copy;
  return copy?.kind === 'destination' ? copy.location : undefined;
}

async function saveDestinations(list: DestinationSetting[]): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update('destinations', list, vscode.ConfigurationTarget.Global);
}

function userDestinations(): DestinationSetting[] {
  const value = vscode.workspace.getConfiguration(SECTION).inspect<unknown>('destinations')?.globalValue;
  return Array.isArray(value) ? (value.filter((d) => d && typeof d.location === 'string') as DestinationSetting[]) : [];
}

export function addDestination(ctx: CommandContext, arg?: unknown, presets?: { offsite?: boolean }): Promise<void> {
  return guarded(ctx, 'Add destination', async () => {
    const folder = await pickFolder(ctx, 'Add a destination for the backups of which folder?', uriArg(arg));
    if (!folder) return;
    const kinds = [
      {
        label: '$(folder) Folder',
        description: 'external drive, NAS share, cloud-synced folder',
        target: 'folder' as const,
      },
      { label: '$(remote) SFTP server', description: 'any machine you can ssh into', target: 'sftp' as const },
      {
        label: '$(cloud) S3-compatible object storage',
        description: 'AWS S3, MinIO, Cloudflare R2, Backblaze B2, Ceph',
        target: 's3' as const,
      },
    ];
    const kind = await ctx.prompter.pick(
      presets?.offsite ? [kinds[1], kinds[2], kinds[0]] : kinds,
      'Where should the extra copy of the backups go?',
    );
    if (!kind) return;
    const store = ctx.service.localStorePath(folder);
    let location: string;
    // Kept only once every question is answered: a cancel midway leaves the keychain as it was.
    let credentials: DestinationCredentials | undefined;
    if (kind.target === 'folder') {
      const picked = await ctx.prompter.pickTargetFolder(
        'Choose the destination folder (on another drive, a NAS share or a synced folder)',
        'Copy Backups Here',
      );
      if (!picked) return;
      location = picked.fsPath;
      if (isInside(location, folder.uri.fsPath))
        throw new BackupError(
          'UNSAFE_PATH',
          `The destination ${location} is inside the workspace; choose a folder outside it.`,
        );
      if (!isRemoteLocation(store) && (isInside(location, store) || isInside(store, location))) {
        throw new BackupError(
          'UNSAFE_PATH',
          `The destination ${location} overlaps the local store ${store}; choose another folder.`,
        );
      }
    } else if (kind.target === 's3') {
      const typed = await ctx.prompter.askText(
        'S3 location of the copy',
        's3://host[:port]/bucket/folder (s3+http:// for a local server without TLS)',
      );
      if (!typed) return;
      location = typed.trim();
      if (!isS3Location(location))
        throw new BackupError(
          'USAGE',
          `"${redactLocation(location)}" is not an S3 location; write s3://host/bucket/folder.`,
        );
      parseS3Location(location); // refuses a location without a bucket, or with credentials in it, in one sentence
      credentials = await askS3Credentials(ctx);
      if (!credentials) return;
    } else {
      const typed = await ctx.prompter.askText(
        'SFTP location of the copy',
        'sftp://user@host[:port]/path/to/backups (or /~/backups in your home folder)',
      );
      if (!typed) return;
      parseSftpLocation(typed.trim()); // refuses malformed locations (and passwords in URLs) in one sentence
      location = typed.trim();
      credentials = await askCredentials(ctx);
      if (!credentials) return;
    }
    let offsite = presets?.offsite;
    if (offsite === undefined) {
      const remote = kind.target !== 'folder';
      const choices = [
        {
          label: 'Offsite',
          description: 'in another place: a server, a cloud-synced folder, a drive kept elsewhere',
          offsite: true,
        },
        { label: 'Onsite', description: 'in the same place as this computer', offsite: false },
      ];
      const picked = await ctx.prompter.pick(
        remote ? choices : [choices[1], choices[0]],
        'Is this copy kept somewhere else? (The 3-2-1 rule wants one offsite copy.)',
      );
      if (!picked) return;
      offsite = picked.offsite;
    }
    if (credentials) await ctx.keychain.setCredentials(destinationKey(location), credentials);
    const list = userDestinations().filter((d) => destinationKey(d.location) !== destinationKey(location));
    list.push({ location, offsite, store });
    await saveDestinations(list);
    ctx.log.info(`Destination added for ${folder.name}: ${location} (${offsite ? 'offsite' : 'onsite'}).`);
    // Adding it is the user saying this is where the copy goes: an empty folder that held a copy before
    // gets a new one (a background copy would refuse it, as its drive may just be unplugged).
    await replicateWithProgress(ctx, folder, location, { fresh: true });
  });
}

/** Asks for an S3 access key (the secret typed hidden); both are kept in the keychain. */
async function askS3Credentials(ctx: CommandContext): Promise<DestinationCredentials | undefined> {
  const accessKeyId = await ctx.prompter.askText('Access key ID', 'kept in your system keychain');
  if (!accessKeyId) return undefined;
  const secretAccessKey = await ctx.prompter.askSecret(
    'Secret access key',
    'kept in your system keychain, never in settings',
  );
  return secretAccessKey ? { accessKeyId: accessKeyId.trim(), secretAccessKey } : undefined;
}

/** Asks how to log in to an SFTP server: a private key file (read now, kept in the keychain) or a password. */
async function askCredentials(ctx: CommandContext): Promise<DestinationCredentials | undefined> {
  const how = await ctx.prompter.pick(
    [
      { label: '$(key) Private key file', description: 'kept in your system keychain', how: 'key' as const },
      { label: '$(lock) Password', description: 'kept in your system keychain', how: 'password' as const },
      { label: '$(plug) ssh-agent', description: 'keys loaded in your running agent', how: 'agent' as const },
    ],
    'How do you log in to the server?',
  );
  if (!how) return undefined;
  if (how.how === 'agent') return {};
  if (how.how === 'password') {
    const password = await ctx.prompter.askSecret(
      'Password for the SFTP server',
      'kept in your system keychain, never in settings',
    );
    return password ? { password } : undefined;
  }
  const fallback = path.join(os.homedir(), '.ssh', 'id_ed25519');
  const file = await ctx.prompter.askText('Private key file', fallback, fallback);
  if (file === undefined) return undefined;
  let privateKey: string;
  try {
    privateKey = fs.readFileSync((file.trim() || fallback).replace(/^~(?=$|[\\/])/, os.homedir()), 'utf8');
  } catch (error) {
    throw new BackupError(
      'PERMISSION_DENIED',
      `The key file ${file || fallback} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  const encrypted = privateKeyIsEncrypted(privateKey);
  const keyPassphrase = encrypted
    ? await ctx.prompter.askSecret('Passphrase of the private key', 'kept in your system keychain')
    : undefined;
  if (encrypted && keyPassphrase === undefined) return undefined;
  return { privateKey, keyPassphrase };
}

/** Replicates a folder's store to one destination (or all) in the foreground, with progress and a report. */
async function replicateWithProgress(
  ctx: CommandContext,
  folder: vscode.WorkspaceFolder,
  only?: string,
  options: { fresh?: boolean } = {},
): Promise<void> {
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Replicating backups', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return ctx.replicator.replicateFolder(folder, {
        interactive: true,
        only,
        fresh: options.fresh,
        progress: { report: (message) => progress.report({ message }), signal: controller.signal },
      });
    },
  );
  void ctx.healthView.refresh();
  if (outcomes.length === 0) {
    void vscode.window.showInformationMessage(
      `${folder.name} has no backup destination yet; add one with "Backup: Add Backup Destination...".`,
    );
    return;
  }
  const failed = outcomes.filter((o) => o.error);
  const copied = outcomes.reduce((sum, o) => sum + (o.result?.objectsCopied ?? 0), 0);
  const bytes = outcomes.reduce((sum, o) => sum + (o.result?.bytesCopied ?? 0), 0);
  if (failed.length === 0) {
    // What this copy did itself, and (for one destination) what the destination holds now.
    const there =
      outcomes.length === 1 && outcomes[0].result
        ? `; ${plural(outcomes[0].result.snapshots, 'snapshot')} there now`
        : '';
    // A copy that finds everything there already (another run got there first) says so, not "0 objects copied".
    const what = copied === 0 ? 'nothing new to copy' : `${plural(copied, 'object')} copied (${formatBytes(bytes)})`;
    const message = `Replicated to ${plural(outcomes.length, 'destination')}: ${what}${there}.`;
    ctx.log.info(message);
    void vscode.window.showInformationMessage(message);
  } else {
    void reportFailure(failed[0].error, { what: `Replication to ${failed[0].destination}`, kind: 'log' });
  }
}

export function replicateNow(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Replicate', async () => {
    const folder = await pickFolder(ctx, 'Replicate the backups of which folder?', uriArg(arg));
    if (!folder) return;
    await replicateWithProgress(ctx, folder, locationArg(arg));
  });
}

export function removeDestination(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Remove destination', async () => {
    let location = locationArg(arg);
    const list = userDestinations();
    if (!location) {
      const picked = await ctx.prompter.pick(
        list.map((d) => ({ label: d.location, description: d.offsite ? 'offsite' : 'onsite' })),
        'Stop replicating to which destination?',
      );
      if (!picked) return;
      location = picked.label;
    }
    const key = destinationKey(location);
    if (!list.some((d) => destinationKey(d.location) === key)) {
      void vscode.window.showWarningMessage(
        `${location} is not in your destinations (a workspace setting may list it).`,
      );
      return;
    }
    if (
      !(await ctx.prompter.confirm(
        `Stop replicating to ${location}? The copies already there are kept; delete them yourself if you want them gone.`,
        'Stop Replicating',
      ))
    )
      return;
    await saveDestinations(list.filter((d) => destinationKey(d.location) !== key));
    await ctx.keychain.forgetCredentials(key);
    ctx.log.info(`Destination removed: ${location}.`);
  });
}

export function setDestinationCredentials(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Set credentials', async () => {
    let location = locationArg(arg);
    if (!location) {
      const remote = ctx.service
        .folders()
        .flatMap((f) => ctx.replicator.destinations(f))
        .filter((d) => isRemoteLocation(d.location));
      const picked = await ctx.prompter.pick(
        remote.map((d) => ({ label: d.location })),
        'Log-in details for which destination?',
      );
      if (!picked) return;
      location = picked.label;
    }
    if (!isRemoteLocation(location)) {
      void vscode.window.showInformationMessage(`${location} is a folder: it needs no log-in.`);
      return;
    }
    const credentials = isS3Location(location) ? await askS3Credentials(ctx) : await askCredentials(ctx);
    if (!credentials) return;
    await ctx.keychain.setCredentials(destinationKey(location), credentials);
    void vscode.window.showInformationMessage(`Log-in details for ${location} saved in your system keychain.`);
  });
}

/** Points the views (and restores) at a destination: for when the local store is lost or unreachable. */
export function useDestination(ctx: CommandContext, arg?: unknown, location?: unknown): Promise<void> {
  return guarded(ctx, 'Use destination', async () => {
    const folder = await pickFolder(ctx, 'Browse the backups of which folder?', uriArg(arg));
    if (!folder) return;
    const destinations = ctx.replicator.destinations(folder);
    if (destinations.length === 0 && typeof location !== 'string') {
      void vscode.window.showInformationMessage(
        `${folder.name} has no backup destination to browse; add one with "Backup: Add Backup Destination...".`,
      );
      return;
    }
    const picked =
      typeof location === 'string'
        ? { label: location }
        : await ctx.prompter.pick(
            destinations.map((d) => ({ label: d.location, description: d.offsite ? 'offsite' : 'onsite' })),
            'Browse and restore from which destination?',
          );
    if (!picked) return;
    const previous = ctx.service.browsing(folder);
    ctx.service.useStore(folder, picked.label);
    try {
      const snapshots = await ctx.service.snapshots(folder, true);
      const missing = (await knownStoreMissing(ctx.service.localStorePath(folder), ctx.service.knownStores))
        ? ' The local store is missing: a restore into the workspace first brings it back from there, so it can be undone and backups go on.'
        : '';
      void vscode.window.showInformationMessage(
        `Now showing ${plural(snapshots.length, 'snapshot')} of ${folder.name} from ${picked.label}; restore from the Snapshots view. Run "Backup: Use the Local Store Again" when done.${missing}`,
      );
    } catch (error) {
      ctx.service.useStore(folder, previous);
      throw error;
    }
    void ctx.healthView.refresh();
  });
}

export function useLocalStore(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Use local store', async () => {
    const browsing = ctx.service.folders().filter((f) => ctx.service.browsing(f));
    const folder = uriArg(arg)
      ? await pickFolder(ctx, '', uriArg(arg))
      : browsing.length <= 1
        ? browsing[0]
        : await ctx.prompter.pickFolder(browsing, 'Back to the local store for which folder?');
    if (!folder) return;
    ctx.service.useStore(folder, undefined);
    void ctx.healthView.refresh();
  });
}

export const commands: CommandSpec[] = [
  {
    id: Commands.addDestination,
    run: (ctx, arg, presets) => addDestination(ctx, arg, presets as { offsite?: boolean } | undefined),
  },
  { id: Commands.removeDestination, run: (ctx, arg) => removeDestination(ctx, arg) },
  { id: Commands.replicateNow, run: (ctx, arg) => replicateNow(ctx, arg) },
  { id: Commands.setDestinationCredentials, run: (ctx, arg) => setDestinationCredentials(ctx, arg) },
  { id: Commands.useDestination, run: (ctx, arg, location) => useDestination(ctx, arg, location) },
  { id: Commands.useLocalStore, run: (ctx, arg) => useLocalStore(ctx, arg) },
];
