// The import-boundary lint: imports only point down the layers of the architecture
// (docs/design.md): backend <- tensor <- nn, optim <- models <- train <- al <- pipeline <- bench <- cli, with data
// beside models, run (a saved run rebuilt for prediction: loadRun) above pipeline, analysis (distances, exit
// accuracy, t-SNE, traces of runs) beside bench, and report (the HTML page of runs, which draws on the analyses
// and the pipeline's charts) above analysis, beside bench. Inside pipeline, each concern is a layer of its own:
// runtime (transports, the stage runtime, the coordinator's stage group) under the AL and BP stages beside each
// other, and plan (balance, projection, simulator) beside them; at most an index.ts at pipeline's root, which may
// gather them all. Run (the training run as a library call: train, its configuration, resume; a
// saved run rebuilt for prediction: loadRun) sits above pipeline and below cli. No file may reach
// itself through its imports (type-only imports included): an import circle fails too. Runs over
// the sources (not the tests) as part of `npm test`.
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
  'pipeline/runtime': ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline/runtime'],
  'pipeline/al': ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline/runtime', 'pipeline/al'],
  'pipeline/bp': ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline/runtime', 'pipeline/bp'],
  'pipeline/plan': ['backend', 'tensor', 'nn', 'optim', 'models', 'data', 'train', 'al', 'pipeline/runtime', 'pipeline/plan'],
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

/** A source path's layer: its top folder, or 'pipeline/<folder>' inside pipeline ('pipeline' for its index.ts). */
function layerOf(path) {
  const parts = path.split('/');
  return parts[0] === 'pipeline' && parts.length > 2 ? `pipeline/${parts[1]}` : parts[0];
}

/** May `layer` import `target`? A plain 'pipeline' in a list outside pipeline admits all of it. */
function admits(layer, target) {
  const list = allowed[layer];
  return list.includes(target) || (!layer.startsWith('pipeline/') && list.includes('pipeline') && target.startsWith('pipeline/'));
}

/** Every import circle, each once, as the files around it (first file repeated at the end): a depth-first search's back edges. */
function importCircles(graph) {
  const circles = [];
  const state = new Map(); // 1: on the current path, 2: done
  const path = [];
  const visit = (file) => {
    state.set(file, 1);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 1) circles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 2);
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return circles;
}

const problems = [];
/** Each source file's relative imports, as paths under src/ ending in .ts. */
const graph = new Map();
for (const file of files(root)) {
  const path = relative(root, file);
  const layer = layerOf(path);
  if (!(layer in allowed)) {
    if (layer.endsWith('.ts')) continue; // src/index.ts re-exports everything
    problems.push(`${path}: folder '${layer}' has no place in the layer list of scripts/check_imports.mjs`);
    continue;
  }
  if (layer === 'pipeline' && path !== 'pipeline/index.ts') {
    problems.push(`${path}: src/pipeline holds only an index.ts at its root; the rest goes in a folder by concern`);
    continue;
  }
  const source = readFileSync(file, 'utf8');
  const edges = [];
  graph.set(path, edges);
  for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    edges.push(relative(root, resolve(dirname(file), match[1])).replace(/\.js$/, '.ts'));
    const target = layerOf(relative(root, resolve(dirname(file), match[1])));
    if (target.startsWith('..')) problems.push(`${path}: imports outside src/: ${match[1]}`);
    else if (!admits(layer, target)) problems.push(`${path}: layer '${layer}' may not import '${target}' (${match[1]})`);
  }
}
problems.push(...importCircles(graph).map((circle) => `import circle: ${circle.join(' -> ')}`));
if (problems.length > 0) {
  console.error('import boundaries violated:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('import boundaries: ok');
