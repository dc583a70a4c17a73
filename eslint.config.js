// ESLint (flat config) with typescript-eslint's type-checked rule sets, not Biome: the rules that
// matter in an async CLI need the TypeScript program — no-floating-promises, no-misused-promises,
// await-thenable, no-unnecessary-type-assertion, restrict-template-expressions, no-unsafe-* on
// JSON.parse — and Biome's own type inference covers only a few of them, as nursery rules.
// Formatting is checked by @stylistic rules chosen to match the tree as it is (no semicolons,
// single quotes, 2 spaces, long lines allowed), so `npm run lint:fix` changes a handful of lines,
// not every file (a Prettier/Biome format pass would rewrite most of them).
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import {defineConfig} from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {linterOptions: {reportUnusedDisableDirectives: 'error'}},
  {ignores: ['dist/', 'node_modules/', '.tools/', '.venv/', '.cache/', '.iotctl/', '.test-output/', 'docs/']},
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for the whole tree: test/tsconfig.json is the one that includes src/, test/,
        // bench/ and scripts/ (the root one has src/ only). The project service picks the nearest
        // tsconfig.json, which bench/ and scripts/ do not have, and would build a second program
        // for src/ under the root one — twice the type-checking for the same answers (measured on
        // 2 busy cores: 33 s CPU / 46 s wall this way, 40 s / 88 s with the project service).
        project: './test/tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's describe/test return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {allowForKnownSafeCalls: [{from: 'package', name: ['describe', 'it', 'suite', 'test', 'before', 'after', 'beforeEach', 'afterEach'], package: 'node:test'}]}],
      // `() => {}` is the tree's spelling of "no progress output" / "this close may fail, ignore it".
      '@typescript-eslint/no-empty-function': ['error', {allow: ['arrowFunctions']}],
      // An `async` method without `await` is how a Promise-returning interface (a step's read, an
      // oclif hook, a stub in a test) is implemented so that a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // `x || fallback` on a string or a boolean means "empty or false falls through" here (an empty
      // env var, an empty list shown as 'none'); ?? is asked for where null/undefined alone is meant.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', {ignorePrimitives: {string: true, boolean: true}}],
      // `{secret: _secret, ...rest}` is how a key is left out of a copy; `_name` marks a parameter an
      // interface makes us take.
      '@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_'}],
    },
  },
  {
    // Formatting: only rules the tree already follows. Off on purpose: max-len (STYLE.md keeps long
    // lines), arrow-parens (both forms are common), object-curly-spacing/array-bracket-spacing
    // (deprecated in @stylistic for list-style, which also forces line-break layouts the tree does
    // not use), no-extra-semi (the `;[a, b] = …` guard that no-semicolon style needs).
    plugins: {'@stylistic': stylistic},
    rules: {
      '@stylistic/semi': ['error', 'never'],
      '@stylistic/quotes': ['error', 'single', {avoidEscape: true, allowTemplateLiterals: 'always'}],
      '@stylistic/indent': ['error', 2, {SwitchCase: 1}],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/brace-style': ['error', '1tbs', {allowSingleLine: true}],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', {max: 1, maxEOF: 0, maxBOF: 0}],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/block-spacing': ['error', 'always'],
      '@stylistic/space-before-function-paren': ['error', {anonymous: 'always', named: 'never', asyncArrow: 'always'}],
      '@stylistic/no-tabs': 'error',
      '@stylistic/type-annotation-spacing': 'error',
      '@stylistic/member-delimiter-style': ['error', {multiline: {delimiter: 'none'}, singleline: {delimiter: 'semi', requireLast: false}}],
      '@stylistic/function-call-spacing': 'error',
      '@stylistic/semi-spacing': 'error',
      '@stylistic/space-in-parens': 'error',
      '@stylistic/template-curly-spacing': 'error',
      '@stylistic/padded-blocks': ['error', 'never'],
      '@stylistic/quote-props': ['error', 'as-needed'],
      '@stylistic/new-parens': 'error',
      '@stylistic/spaced-comment': ['error', 'always', {markers: ['/']}],
      '@stylistic/rest-spread-spacing': 'error',
      '@stylistic/no-multi-spaces': 'error',
      '@stylistic/space-unary-ops': 'error',
      '@stylistic/dot-location': ['error', 'property'],
      '@stylistic/no-whitespace-before-property': 'error',
      '@stylistic/computed-property-spacing': 'error',
      '@stylistic/generator-star-spacing': ['error', {before: false, after: true}],
      '@stylistic/yield-star-spacing': ['error', {before: false, after: true}],
    },
  },
  {
    // Tests read the CLI's --json output through JSON.parse and stub SDK clients whose recorded
    // inputs are `any`; the assertions are the type check there. The local AWS echoes whatever JSON
    // value a caller sent into its error messages, as AWS does (no-base-to-string). Stubs have empty
    // methods.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The few plain .js files (the bin, the manifest script) are outside the TypeScript program.
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {globals: globals.node},
  },
)
