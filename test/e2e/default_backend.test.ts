// A library user who never calls setBackend: the first kernel loads the native backend. Where the
// addon is missing (a copy of the package without build/), importing still works, the first
// kernel fails with an error naming setBackend(referenceBackend), and after that call the same
// code runs on the reference backend. Each case runs in a fresh process, as a user's script does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { alBin } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const root = dirname(dirname(alBin));

/** Runs an ES module script; `entry` is the library's index.js to import. */
function script(code: string, entry: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as al from ${JSON.stringify(entry)};\n${code}`], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// a Linear layer's forward pass: the first tensor operation runs a kernel
const FORWARD = `
const layer = new al.Linear(3, 2, new al.Rng(1));
const y = layer.forward(al.Tensor.from([1, 2, 3], [1, 3]));
console.log(al.backend().name, y.shape.join('x'));`;

test('without setBackend, the first kernel selects the native backend', () => {
  const r = script(`console.log(al.hasBackend());${FORWARD}`, join(root, 'dist', 'src', 'index.js'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'false\nnative 1x2\n');
});

test('explicit setBackend still wins: the reference backend, or the native one by name', () => {
  const entry = join(root, 'dist', 'src', 'index.js');
  const reference = script(`al.setBackend(al.referenceBackend);${FORWARD}`, entry);
  assert.equal(reference.code, 0, reference.stderr);
  assert.equal(reference.stdout, 'reference 1x2\n');
  const native = script(`al.setBackend(al.nativeBackend);${FORWARD}`, entry);
  assert.equal(native.code, 0, native.stderr);
  assert.equal(native.stdout, 'native 1x2\n');
});

test('without the addon: importing works, the first kernel names setBackend(referenceBackend), which then works', () => {
  // the package without build/: its own package.json (so the loader looks only here) and dist/src
  const copy = tempDir('al-no-addon-');
  cpSync(join(root, 'dist', 'src'), join(copy, 'dist', 'src'), { recursive: true });
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const entry = join(copy, 'dist', 'src', 'index.js');

  const failing = script(`console.log('imported');${FORWARD}`, entry);
  assert.notEqual(failing.code, 0);
  assert.equal(failing.stdout, 'imported\n');
  assert.match(failing.stderr, /no compute backend selected, and the default one, the native oneDNN backend, is not available: associated-learning: could not load the native addon al_native\.node\. Tried:/);
  assert.match(failing.stderr, new RegExp(`${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/build/Release/al_native\\.node: not found`));
  assert.match(failing.stderr, /call setBackend\(referenceBackend\) first: import \{ setBackend, referenceBackend \} from 'associated-learning'/);
  assert.doesNotMatch(failing.stderr, /setBackend\(nativeBackend\)/);

  const reference = script(`al.setBackend(al.referenceBackend);${FORWARD}`, entry);
  assert.equal(reference.code, 0, reference.stderr);
  assert.equal(reference.stdout, 'reference 1x2\n');

  // choosing the native backend by name fails the same way, at its first kernel
  const native = script(`al.setBackend(al.nativeBackend); console.log('selected');${FORWARD}`, entry);
  assert.notEqual(native.code, 0);
  assert.equal(native.stdout, 'selected\n');
  assert.match(native.stderr, /could not load the native addon al_native\.node/);
});
