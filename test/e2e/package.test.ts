// What a user gets: `al --version`, and the files `npm pack` puts in the package (listed with
// --dry-run --ignore-scripts, so nothing is built or written): everything the install script, the
// CLI and the library need, the examples, and no tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { alBin, runAl } from '../util/al_cli.js';

const root = dirname(dirname(alBin));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string; main: string; types: string; bin: Record<string, string>; scripts: Record<string, string>;
};

test('al --version and al -V print the version in package.json; extra arguments are refused', () => {
  for (const flag of ['--version', '-V']) {
    const r = runAl([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${manifest.version}\n`);
  }
  const extra = runAl(['--version', 'train']);
  assert.equal(extra.code, 2);
  assert.equal(extra.stderr, "al: --version takes no arguments, got 'train'\n");
  assert.match(runAl(['--help']).stdout, /'al --version' \(-V\) prints the version/);
});

test('npm pack holds the built library, the CLI, the native sources and the install script, and no tests', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  const tests = [...files].filter((f) => /(^|\/)test\//.test(f) || /\.test\.(js|ts|d\.ts)$/.test(f));
  assert.deepEqual(tests, [], 'the package holds test files');

  const needed = [
    'package.json', 'README.md', manifest.main, manifest.types, ...Object.values(manifest.bin).map(normalize),
    'binding.gyp', 'bench/torch_bench.py', 'dist/src/cli/main.js', 'dist/src/backend/load_native.js',
    'examples/predict_saved_run.mjs', 'examples/custom_al_net.mjs',
  ];
  // every script the install script runs with node
  for (const m of manifest.scripts['install']!.matchAll(/node (\S+\.m?js)/g)) needed.push(m[1]!);
  // every source node-gyp compiles, and the headers beside them
  const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const sources = [...gyp.matchAll(/"(native\/[^"]+\.cc)"/g)].map((m) => m[1]!);
  assert.ok(sources.length > 10, 'binding.gyp lists the native sources');
  needed.push(...sources, ...sources.map((s) => s.replace(/\.cc$/, '.h')).filter((h) => existsSync(join(root, h))));
  for (const file of needed) assert.ok(files.has(file), `the package lacks ${file}`);
  // every module of the library is there compiled, with its declarations
  for (const file of files) {
    if (file.startsWith('src/') && file.endsWith('.ts')) {
      const js = 'dist/' + file.replace(/\.ts$/, '.js');
      assert.ok(files.has(js) && files.has(js.replace(/\.js$/, '.d.ts')), `the package has ${file} but not ${js} and its .d.ts`);
    }
  }
  assert.ok(![...files].some((f) => f.startsWith('build/') || f.endsWith('.node')), 'a compiled addon is built at install, not shipped');
});
