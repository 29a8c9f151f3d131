import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/renderer/**/*'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Layering: shared is pure; the engine never imports Electron or the app layers above it.
    files: ['src/shared/**/*'],
    ignores: ['src/shared/node/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'electron', '@engine/*', '../engine/*', '../main/*', 'fs', 'path'] },
      ],
    },
  },
  {
    // shared/node: file helpers for the Node processes (engine, services, CLI); Node but nothing above.
    files: ['src/shared/node/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['electron', '@engine/*', '**/engine/**', '**/main/**', '**/cli/**'] },
      ],
    },
  },
  {
    files: ['src/engine/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['electron', '../main/*', '../../main/*', '../cli/*', '../renderer/*'] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'electron',
            'node:*',
            '@engine/*',
            '**/engine/**',
            '**/main/**',
            '@shared/node/*',
          ],
        },
      ],
    },
  },
  prettier,
)
