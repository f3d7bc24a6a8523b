/**
 * Layer rules (issue #18): router -> service -> repo; pure modules without I/O; no feature reads another
 * feature's repository or query module; no cycles; the HTTP layer stays out of services and pure code.
 * `npm run lint:layers` runs this in CI; a violation fails the build.
 */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-foreign-repo',
      comment: "A feature reaches another feature's tables only through that feature's service.",
      severity: 'error',
      from: { path: '^src/features/([^/]+)/' },
      to: { path: '^src/features/([^/]+)/.+\\.(repo|query)\\.ts$', pathNot: '^src/features/$1/' },
    },
    {
      name: 'repo-only-from-own-service',
      comment: 'Routers call services, never repositories or read models.',
      severity: 'error',
      from: { path: '\\.router\\.ts$' },
      to: { path: '\\.(repo|query)\\.ts$' },
    },
    {
      name: 'knex-only-in-repos',
      comment: 'Repositories and read models are the only code that touches knex at run time.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.(repo|query)\\.ts$', '^src/db/', '\\.test\\.ts$'] },
      to: { path: 'node_modules/knex/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-http-below-routers',
      comment: 'Services, repositories, read models and pure modules do not import the HTTP layer.',
      severity: 'error',
      from: { path: '^src/(features|lib|core|db)/', pathNot: ['\\.router\\.ts$', '\\.test\\.ts$'] },
      to: { path: '^src/http/' },
    },
    {
      name: 'pure-modules-stay-pure',
      comment: 'Pure modules (no .service/.repo/.query/.router suffix) do no I/O and call no service.',
      severity: 'error',
      from: {
        path: '^src/(features/[^/]+/[^/.]+|lib/.+)\\.ts$',
        pathNot: ['\\.(service|repo|query|router|test)\\.ts$'],
      },
      to: {
        path: ['\\.(service|repo|query|router)\\.ts$', '^src/db/', 'node_modules/(knex|pg|@electric-sql)/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'lib-is-a-library',
      comment: 'src/lib knows nothing of features, HTTP or the database.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/(features|http|db)/' },
    },
    {
      name: 'no-test-support-in-src',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(test|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
