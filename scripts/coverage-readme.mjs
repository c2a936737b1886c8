// `npm run coverage:update`: rewrite README's coverage table from the scenario definitions (test/unit/coverage.test.ts
// fails when the committed table differs from what this writes).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeWithCoverage } from '../dist/lab/results/coverage-readme.js';

const readme = join(dirname(dirname(fileURLToPath(import.meta.url))), 'README.md');
const before = readFileSync(readme, 'utf8');
const after = readmeWithCoverage(before);
if (after !== before) writeFileSync(readme, after);
console.log(after === before ? 'README coverage table is up to date' : 'README coverage table rewritten');
