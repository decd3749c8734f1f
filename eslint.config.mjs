// ESLint (flat config): typescript-eslint's recommended rules over the service, its tools and tests.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench-results/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring what must be left out, Express's 4-argument error handler).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Settings are read once, by the settings module (src/config/): everything else receives them.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through src/config/ (the one reader of the environment).' }],
      // `x == null` is the one idiom kept: it means null or undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/config/environment.ts', 'test/**/*.ts'],
    // The settings module reads the environment; tests set up services and read CI switches (TEST_DATABASE_URL).
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
