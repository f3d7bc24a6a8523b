// Jest configuration of the reliability suites (authorization matrix, fuzzing, fault drills).
// They are not part of `npm test`; `npm run test:reliability` runs them on PostgreSQL and prints a summary.
const path = require('node:path');
const base = require('../../package.json').jest;

module.exports = {
  ...base,
  rootDir: path.resolve(__dirname, '../..'),
  roots: ['<rootDir>/test/reliability'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600000,
};
