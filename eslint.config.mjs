// ESLint: typescript-eslint's recommended rules, and the layering rules that keep the architecture true
// (docs/architecture.md): core imports neither `vscode` nor the fronts; the editor layer does not import the
// CLI, nor the CLI the editor. Formatting is Prettier's (.prettierrc.json; eslint-config-prettier turns off
// every rule that would fight it). `npm run lint` runs both; `npm test` runs lint first.
import tseslint from 'typescript-eslint';
import eslintConfigPrettier from 'eslint-config-prettier';

const layer = (files, patterns) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns }],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'test/vscode-host/**',
      '.bench/**',
      'test-results/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Parameters and destructured names kept for their meaning are prefixed with _.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  layer(
    ['src/core/**/*.ts'],
    [
      { group: ['vscode'], message: 'core is pure Node: it never imports vscode.' },
      { group: ['**/cli', '**/cli/**', '**/cli.ts'], message: 'core never imports the CLI front.' },
      { group: ['**/vscode/**', '../vscode', '../../vscode'], message: 'core never imports the editor layer.' },
    ],
  ),
  layer(
    ['src/vscode/**/*.ts', 'src/extension.ts'],
    [{ group: ['**/cli', '**/cli/**', '**/cli.ts'], message: 'the editor layer never imports the CLI front.' }],
  ),
  layer(
    ['src/cli/**/*.ts', 'src/cli.ts'],
    [
      { group: ['vscode'], message: 'the CLI never imports vscode.' },
      { group: ['**/vscode/**'], message: 'the CLI never imports the editor layer.' },
    ],
  ),
);
