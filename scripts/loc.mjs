// Lines of code per folder and the longest files, so growth is visible in every change.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const counted = /\.(ts|cc|h|mjs|py|sh)$/;
const perFolder = new Map();
const perFile = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', 'build', '.git', 'runs'].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (counted.test(name)) {
      const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
      const rel = relative(root, path);
      const folder = rel.split('/').slice(0, 2).join('/');
      perFolder.set(folder, (perFolder.get(folder) ?? 0) + lines);
      perFile.push([rel, lines]);
    }
  }
}
walk(root);
let total = 0;
for (const [folder, lines] of [...perFolder].sort()) {
  console.log(`${String(lines).padStart(7)}  ${folder}`);
  total += lines;
}
console.log(`${String(total).padStart(7)}  total (non-blank lines)`);
console.log('\nlongest files:');
for (const [file, lines] of perFile.sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${String(lines).padStart(7)}  ${file}`);
