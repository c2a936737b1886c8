// `npm run lab` compiles first; this skips loading the TypeScript compiler (1-2 s here) when nothing tsc reads
// changed since its last successful build, and otherwise runs `tsc -b` exactly as before.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stamp = join(root, 'dist', '.build-ok');

function newest(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  // a deletion or rename changes the directory's own mtime
  let m = s.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const inputs = ['lab', 'scenarios', 'test', 'tsconfig.json', 'package.json', 'package-lock.json'].map((p) => newest(join(root, p)));
if (built === 0 || Math.max(...inputs) >= built) {
  const started = new Date(); // an edit made while tsc runs must still count as newer than the build
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
