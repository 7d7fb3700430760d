// ESLint over the TypeScript and the scripts: the recommended sets of ESLint and typescript-eslint, a few more rules
// that catch defects (none of style), and three type-aware rules for promises, which the pipeline's transports and
// stage processes depend on. `npm run lint` runs it with --max-warnings 0.
import js from '@eslint/js';
import tsPlugin from '@typescript-eslint/eslint-plugin';
import globals from 'globals';

// node:test's test() and friends return promises that the runner itself awaits
const nodeTest = { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] };

export default [
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  js.configs.recommended,
  ...tsPlugin.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // tsc's convention, which the code follows: a leading underscore marks a parameter or a destructured name as
      // unused on purpose (`const { seed: _seed, ...rest } = config` drops a key)
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // the tests match printed tables with the same run of spaces that the table has
      'no-regex-spaces': 'off',
      eqeqeq: ['error', 'smart'],
      'no-template-curly-in-string': 'error',
      'no-unreachable-loop': 'error',
      'array-callback-return': 'error',
      'no-constructor-return': 'error',
      'default-case-last': 'error',
      'no-new-wrappers': 'error',
      'no-implied-eval': 'error',
      'no-return-assign': 'error',
      'no-throw-literal': 'error',
      'prefer-promise-reject-errors': 'error',
      radix: 'error',
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [nodeTest] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    // ESLint's default count: every line from the function's first to its last, blank lines and comments included
    // (skipBlankLines and skipComments false); a function's nested functions count towards it
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: false }] },
  },
];
