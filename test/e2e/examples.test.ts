// The scripts of examples/ and the README's library example run as a user runs them, importing
// the package by name ('associated-learning', resolved through package.json "exports"), and print
// what they claim: the saved runs' predictions agree with `al eval`, the custom AL net, pipelined,
// ends bit-identical to sequential AL, its losses fall and it classifies its data, and the
// README's network learns MNIST from every exit.
// Children run on one compute thread: the machine is shared, and small kernels on contended
// threads are many times slower (results do not depend on it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { alBin, runAl } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const root = dirname(dirname(alBin));
const env = { ...process.env, OMP_NUM_THREADS: '1' };

function runScript(file: string, args: string[] = []): string {
  const r = spawnSync(process.execPath, [file, ...args], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${file} failed:\n${r.stderr}`);
  return r.stdout;
}

test('examples/predict_saved_run.mjs: loadRun predicts as al eval measures, for BP and every AL exit', () => {
  const dir = tempDir('al-example-runs-');
  const out = runScript(join(root, 'examples', 'predict_saved_run.mjs'), [dir]);
  assert.match(out, /^SavedRun\(.*\/bp: mlp on mnist, method bp, epoch 1\)$/m);
  assert.match(out, /^SavedRun\(.*\/al: mlp on mnist, method al, epoch 3, 3 AL layers\)$/m);
  const lines = [...out.matchAll(/^(bp|al) (network|exit \d): first labels ((?:\d )+\d); ([\d.]+)% of 1000 test images, ([\d.]+)% of all 10000$/gm)];
  assert.deepEqual(lines.map((m) => `${m[1]} ${m[2]}`), ['bp network', 'al exit 1', 'al exit 2', 'al exit 3']);
  for (const [, name, where, , , all] of lines) {
    const exit = where!.startsWith('exit') ? where!.slice(5) : undefined;
    const r = runAl(['eval', join(dir, name!), ...(exit ? ['--exit-layer', exit] : []), '--threads', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const measured = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { testAccuracy: number }).testAccuracy;
    assert.equal(all, (100 * measured).toFixed(2), `${name} ${where}: the example and al eval agree`);
    // trained, not guessing: 10 classes
    assert.ok(Number(all) > (name === 'al' ? 80 : 40), `${name} ${where}: ${all}%`);
  }
});

test('examples/custom_al_net.mjs: a net of Linear, activation and Sequential layers, pipelined on 2 worker threads, ends bit-identical to sequential AL and learns its blobs', () => {
  const out = runScript(join(root, 'examples', 'custom_al_net.mjs'));
  assert.match(out, /^AssociatedNet\(3 layers, 3 classes\)$/m);
  assert.match(out, /^pipeline: 2 stages on worker threads \(AL layers 1 \| 2\+3\)$/m);
  const epochs = [...out.matchAll(/^epoch (\d+): (.*) \((equal to|DIFFERENT from) sequential\)$/gm)].map((m) => ({
    epoch: Number(m[1]),
    equal: m[3] === 'equal to',
    layers: [...m[2]!.matchAll(/layer (\d) associated ([\d.]+) autoencoder ([\d.]+)/g)].map((l) => ({ associated: Number(l[2]), autoencoder: Number(l[3]) })),
  }));
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(epochs.every((e) => e.equal), "every epoch's losses equal sequential AL's");
  assert.match(out, /^weights: all 24 tensors bit-identical to sequential AL$/m);
  const [first, last] = [epochs[0]!, epochs[epochs.length - 1]!];
  for (let k = 0; k < 3; k++) {
    assert.equal(first.layers.length, 3);
    assert.ok(last.layers[k]!.associated < first.layers[k]!.associated / 2, `layer ${k + 1}'s associated loss falls: ${JSON.stringify([first.layers[k], last.layers[k]])}`);
    assert.ok(last.layers[k]!.autoencoder < first.layers[k]!.autoencoder / 2, `layer ${k + 1}'s autoencoder loss falls`);
  }
  const exits = [...out.matchAll(/^exit (\d): test accuracy ([\d.]+)%$/gm)];
  assert.deepEqual(exits.map((m) => m[1]), ['1', '2', '3']);
  for (const m of exits) assert.ok(Number(m[2]) > 90, `exit ${m[1]}: ${m[2]}%`);
});

test("the README's library example runs as written and learns MNIST from every exit", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library API'), readme.indexOf('\n## ', readme.indexOf('## Library API') + 1));
  const blocks = [...section.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.equal(blocks.length, 1, 'one code block');
  assert.ok(blocks[0]!.split('\n').length - 1 <= 25, 'at most 25 lines');
  // a user's project: the script beside node_modules/associated-learning (this package)
  const project = tempDir('al-readme-');
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(root, join(project, 'node_modules', 'associated-learning'));
  writeFileSync(join(project, 'example.mjs'), blocks[0]!);
  const r = spawnSync(process.execPath, ['example.mjs'], { cwd: project, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const epochs = [...r.stdout.matchAll(/^epoch (\d): mean associated loss per layer ((?:\S+ ){2}\S+)$/gm)];
  assert.deepEqual(epochs.map((m) => m[1]), ['1', '2', '3']);
  const exits = [...r.stdout.matchAll(/^exit (\d): ([\d.]+) % of the test set$/gm)];
  assert.deepEqual(exits.map((m) => m[1]), ['1', '2', '3']);
  for (const m of exits) assert.ok(Number(m[2]) > 80, `exit ${m[1]}: ${m[2]} %`);
});
