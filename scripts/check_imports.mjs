// The import-boundary lint: imports only point down the layers of the architecture
// (docs/design.md): backend <- tensor <- nn, optim <- models <- train <- al <- pipeline <- bench <- cli, with data
// beside models, run (a saved run rebuilt for prediction: loadRun) above pipeline, analysis (distances, exit
// accuracy, t-SNE, traces of runs) beside bench, and report (the HTML page of runs, which draws on the analyses
// and the pipeline's charts) above analysis, beside bench. Runs over the sources (not the tests) as part of
// `npm test`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const allowed = {
  backend: ['backend'],
  tensor: ['backend', 'tensor'],
  nn: ['backend', 'tensor', 'nn'],
  optim: ['backend', 'tensor', 'optim'],
  models: ['backend', 'tensor', 'nn', 'models'],
  data: ['tensor', 'data'],
  train: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train'],
  al: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al'],
  pipeline: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline'],
  run: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline', 'run'],
  analysis: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline', 'analysis'],
  report: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline', 'analysis', 'report'],
  bench: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline', 'analysis', 'bench'],
  cli: ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline', 'run', 'analysis', 'report', 'bench', 'cli'],
};

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

const problems = [];
for (const file of files(root)) {
  const layer = relative(root, file).split('/')[0];
  if (!(layer in allowed)) {
    if (layer.endsWith('.ts')) continue; // src/index.ts re-exports everything
    problems.push(`${relative(root, file)}: folder '${layer}' has no place in the layer list of scripts/check_imports.mjs`);
    continue;
  }
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = relative(root, resolve(dirname(file), match[1])).split('/')[0];
    if (target.startsWith('..')) problems.push(`${relative(root, file)}: imports outside src/: ${match[1]}`);
    else if (!allowed[layer].includes(target)) problems.push(`${relative(root, file)}: layer '${layer}' may not import '${target}' (${match[1]})`);
  }
}
if (problems.length > 0) {
  console.error('import boundaries violated:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('import boundaries: ok');
