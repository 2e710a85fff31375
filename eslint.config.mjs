// ESLint (flat config): the banner's sources, its build script and its Node tests (make check).
import js from '@eslint/js';
import globals from 'globals';

// STYLE.md, "The embeddable script": no eval, no HTML parsed from strings, one global.
const bannerRules = {
  'no-eval': 'error',
  'no-implied-eval': 'error',
  'no-new-func': 'error',
  'no-restricted-properties': ['error',
    { property: 'innerHTML', message: 'Build nodes with el() and textContent: no HTML from data.' },
    { property: 'outerHTML', message: 'Build nodes with el() and textContent: no HTML from data.' },
    { property: 'insertAdjacentHTML', message: 'Build nodes with el() and textContent: no HTML from data.' },
    { object: 'document', property: 'write', message: 'No document.write: it parses HTML and blocks the page.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "AssignmentExpression > MemberExpression.left[object.name='window'][property.name!=/^(Consentry|dataLayer)$/]",
      message: 'The banner sets one global, window.Consentry (and the shared window.dataLayer).' },
  ],
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  'no-var': 'error',
  'prefer-const': 'error',
};

export default [
  // static/ holds built files and the apps' own small page scripts; templates/ Django templates.
  { ignores: ['node_modules/', '.venv/', 'static/', 'staticfiles/', 'templates/', 'var/'] },
  js.configs.recommended,
  {
    files: ['frontend/banner/src/**/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'module', globals: globals.browser },
    rules: bannerRules,
  },
  {
    files: ['frontend/*.mjs', 'tests/js/**/*.js', 'eslint.config.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
  },
];
