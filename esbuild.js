// Bundles the extension and the CLI into dist/. `--production` minifies; `--watch` rebuilds on change.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
};

/**
 * archiver (and its stream libraries) is big and only needed to export archives: src/core/export/archiverVendor.ts
 * (its one importer) goes into its own file, dist/vendor/archiver.js, required on first use, so loading the
 * extension does not parse it.
 */
const lazyArchiver = {
  name: 'lazy-archiver',
  setup(build) {
    build.onResolve({ filter: /(^|[\\/])archiverVendor$/ }, () => ({ path: './vendor/archiver.js', external: true }));
  },
};

// The vendor bundles are minified in every build: their first require is compiled while the editor waits
// (18 ms for archiver as written, 13 ms minified), and their stack traces are not ours to read.
const archiverBundle = {
  ...common,
  minify: true,
  entryPoints: ['src/core/export/archiverVendor.ts'],
  outfile: 'dist/vendor/archiver.js',
};

/**
 * ssh2 and ssh2-sftp-client are only needed for sftp:// stores: src/core/storage/ssh2Vendor.ts (their one
 * importer) goes into its own file, dist/vendor/ssh2.js, required on first use like archiver.
 */
const lazySsh2 = {
  name: 'lazy-ssh2',
  setup(build) {
    build.onResolve({ filter: /(^|[\\/])ssh2Vendor$/ }, () => ({ path: './vendor/ssh2.js', external: true }));
  },
};

/**
 * ssh2's optional native parts (cpu-features, the sshcrypto.node addon) cannot be bundled and are not shipped:
 * each becomes a module that throws, which ssh2 catches and then uses Node's own crypto.
 */
const withoutNative = {
  name: 'without-native',
  setup(build) {
    build.onResolve({ filter: /^cpu-features$|\.node$/ }, (args) => ({ path: args.path, namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is left out of this bundle`)});`,
      loader: 'js',
    }));
  },
};

const ssh2Bundle = {
  ...common,
  minify: true,
  entryPoints: ['src/core/storage/ssh2Vendor.ts'],
  outfile: 'dist/vendor/ssh2.js',
  plugins: [withoutNative],
};

async function main() {
  const builds = process.argv.includes('--bench')
    ? [
        // The benchmark drives the engine in process (the on-save measure) and the CLI as a user would.
        { ...common, entryPoints: ['bench/run.ts'], outfile: 'dist/bench.js', plugins: [lazyArchiver, lazySsh2] },
        { ...common, entryPoints: ['bench/offsite.ts'], outfile: 'dist/bench-offsite.js' },
        {
          ...common,
          entryPoints: ['bench/gitCost.ts'],
          outfile: 'dist/bench-git.js',
          plugins: [lazyArchiver, lazySsh2],
        },
        {
          ...common,
          entryPoints: ['src/cli.ts'],
          outfile: 'dist/cli.js',
          banner: { js: '#!/usr/bin/env node' },
          plugins: [lazyArchiver, lazySsh2],
        },
        archiverBundle,
        ssh2Bundle,
      ]
    : [
        {
          ...common,
          entryPoints: ['src/extension.ts'],
          outfile: 'dist/extension.js',
          external: ['vscode'],
          plugins: [lazyArchiver, lazySsh2],
        },
        {
          ...common,
          entryPoints: ['src/cli.ts'],
          outfile: 'dist/cli.js',
          banner: { js: '#!/usr/bin/env node' },
          plugins: [lazyArchiver, lazySsh2],
        },
        archiverBundle,
        ssh2Bundle,
      ];
  if (watch) {
    for (const options of builds) {
      const ctx = await esbuild.context(options);
      await ctx.watch();
    }
    return;
  }
  await Promise.all(builds.map((options) => esbuild.build(options)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
