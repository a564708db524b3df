// The lint of `npm run lint` (part of `npm test`): typescript-eslint's recommended rules over the
// TypeScript of the runtime, its workers, tests and benchmarks, with prettier owning the layout.
// The AssemblyScript sources (guest/, modules/*/) are not TypeScript a linter can read (they use
// decorators on functions and AssemblyScript's own types); `thalo build` checks them with asc.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'guest/', 'modules/', 'data/', 'test/fixtures/**/*.ts', '!test/fixtures/*.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // `_name` marks a parameter a signature needs and the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A `let` that a callback made before its one assignment reads later (the engine handed to its
      // dispatcher's callbacks, an instance to its imports) cannot be a `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests and benchmarks read JSON bodies of every shape the API answers; typing each adds
    // nothing the assertions do not check.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
