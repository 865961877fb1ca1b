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
 * archiver (and its stream libraries) is big and only needed to export archives: it goes into its own file,
 * dist/vendor/archiver.js, required on first use, so loading the extension does not parse it.
 */
const lazyArchiver = {
  name: 'lazy-archiver',
  setup(build) {
    build.onResolve({ filter: /^archiver$/ }, () => ({ path: './vendor/archiver.js', external: true }));
  },
};

async function main() {
  const builds = process.argv.includes('--bench')
    ? [
        // The benchmark drives the engine in process (the on-save measure) and the CLI as a user would.
        { ...common, entryPoints: ['bench/run.ts'], outfile: 'dist/bench.js', plugins: [lazyArchiver] },
        { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, plugins: [lazyArchiver] },
        { ...common, entryPoints: ['archiver'], outfile: 'dist/vendor/archiver.js' },
      ]
    : [
        { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], plugins: [lazyArchiver] },
        { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, plugins: [lazyArchiver] },
        { ...common, entryPoints: ['archiver'], outfile: 'dist/vendor/archiver.js' },
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
