// `npm run lab`: compile when a source changed (build-if-stale.mjs), then run the CLI in this same process (one
// Node start instead of two: ~50 ms of every `exec`).
import './build-if-stale.mjs';

await import('../dist/lab/cli.js');
