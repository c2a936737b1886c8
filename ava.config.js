// Tests are TypeScript compiled by `tsc -b` (npm test does that first); ava runs the emitted JS.
export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '10m',
  concurrency: 1,
  verbose: true,
};
