/**
 * Import rules a machine checks (npm run lint): the layers of DEVELOPERS.md "Shape of the code".
 * Domain folders never reach into the HTTP entry points; the service never loads a developer tool;
 * nothing imports in a circle.
 */
const DOMAIN = '^src/(contract|payments|mapping|gateway|store|security|redaction|sessions|twilio)/';
const DEV_TOOLS = '^src/(bench|simulator)/|^src/cli/bench-journal\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one; split what both need into a third.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-not-to-http',
      severity: 'error',
      comment: 'The payment pipeline and what it is made of serve every channel: they never import the HTTP layer.',
      from: { path: DOMAIN },
      to: { path: '^src/http/' },
    },
    {
      name: 'domain-not-to-entry-points',
      severity: 'error',
      comment: 'Entry points (service composition, CLIs) call the domain, never the other way round.',
      from: { path: DOMAIN },
      to: { path: '^src/(cli/|service\\.ts$|service-parts\\.ts$|main\\.ts$)' },
    },
    {
      name: 'service-not-to-dev-tools',
      severity: 'error',
      comment: 'The benchmarks and the simulator are developer tools: not in the image, never loaded by the service.',
      from: { path: '^src/', pathNot: DEV_TOOLS },
      to: { path: DEV_TOOLS },
    },
    {
      name: 'service-not-to-dev-dependencies',
      severity: 'error',
      comment: 'The image installs production dependencies only (type-only imports vanish at build time).',
      from: { path: '^src/', pathNot: DEV_TOOLS },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
