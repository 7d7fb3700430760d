// `al train --resume` end to end: a run of 1 epoch resumed to 2 ends with the same checkpoint,
// byte for byte, as a run of 2; every bad run directory or checkpoint exits 2 naming the file and
// what is wrong, and leaves the checkpoint as it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runAl, type CliResult } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const work = tempDir('al-e2e-resume-');
after(() => rmSync(work, { recursive: true, force: true })); // checkpoints of the MLP are 160 MB each

const run = (args: string[]): CliResult => runAl(args, { timeoutMs: 120_000 });

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
/** The hashes of a run directory's files, to prove a failed command changed none of them. */
const state = (dir: string): string[] => readdirSync(dir).sort().map((f) => `${f} ${sha(join(dir, f))}`);

const bp = ['--model', 'mlp', '--limit', '192', '--batch', '64', '--threads', '1', '--test-limit', '1000'];

test('BP: --epochs 1 then --resume --epochs 2 ends byte-identical to --epochs 2', () => {
  const straight = join(work, 'straight'), resumed = join(work, 'resumed');
  assert.equal(run(['train', ...bp, '--epochs', '2', '--out', straight]).code, 0);
  const first = run(['train', ...bp, '--epochs', '1', '--out', resumed]);
  assert.equal(first.code, 0, first.stderr);
  const second = run(['train', '--resume', resumed, '--epochs', '2', '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout.trim().split('\n').pop()!).runDir, resumed);
  assert.equal(sha(join(resumed, 'checkpoint.safetensors')), sha(join(straight, 'checkpoint.safetensors')));
  assert.equal(readFileSync(join(resumed, 'checkpoint.json'), 'utf8'), readFileSync(join(straight, 'checkpoint.json'), 'utf8'));
  const metrics = (dir: string): { epoch: number; trainLoss: number; testAccuracy: number }[] =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(metrics(resumed).map((m) => [m.epoch, m.trainLoss, m.testAccuracy]), metrics(straight).map((m) => [m.epoch, m.trainLoss, m.testAccuracy]));
  assert.equal(JSON.parse(readFileSync(join(resumed, 'config.json'), 'utf8')).epochs, 2);

  // A finished run, a conflicting flag, --out into an existing run: exit 2, nothing touched.
  const before = state(resumed);
  const finished = run(['train', '--resume', resumed]);
  assert.equal(finished.code, 2);
  assert.match(finished.stderr, /--resume .*resumed: the run has finished 2 of 2 epochs; pass --epochs N with N > 2/);
  const conflict = run(['train', '--resume', resumed, '--epochs', '3', '--lr', '0.5']);
  assert.equal(conflict.code, 2);
  assert.match(conflict.stderr, /--lr 0.5: conflicts with the run's lr 0.001 in .*resumed\/config.json/);
  const over = run(['train', ...bp, '--epochs', '1', '--out', resumed]);
  assert.equal(over.code, 2);
  assert.match(over.stderr, /--out .*resumed: already holds a run \(config.json\); continue it with --resume/);
  assert.deepEqual(state(resumed), before);
});

test('bad run directories and checkpoints exit 2 naming the file and what is wrong, and change nothing', () => {
  const good = join(work, 'straight'); // from the test above
  // Cases refused before the tensors are read get a copy without them (160 MB for the MLP).
  const copy = (name: string, withTensors = true): string => {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const f of readdirSync(good)) if (withTensors || f !== 'checkpoint.safetensors') cpSync(join(good, f), join(dir, f));
    return dir;
  };
  const refused = (dir: string, pattern: RegExp, extra: string[] = []): void => {
    const before = state(dir);
    const r = run(['train', '--resume', dir, '--epochs', '3', ...extra]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.deepEqual(state(dir), before, 'a failed resume must leave the run directory as it was');
  };
  // unreadable run directory
  const missing = run(['train', '--resume', join(work, 'nowhere')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nowhere\/config.json: cannot read the run's configuration \(ENOENT\)/);
  // a checkpoint lost after epochs were recorded (a run stopped in its first epoch starts again: robust.test.ts)
  const lost = copy('lost', false);
  rmSync(join(lost, 'checkpoint.json'));
  refused(lost, /lost\/checkpoint.json: missing, but .*lost\/metrics.jsonl records finished epochs after the first; the checkpoint was removed or lost/);
  // tensors that checkpoint.json did not commit (here: a flipped header byte)
  const flipped = copy('flipped');
  const bytes = readFileSync(join(flipped, 'checkpoint.safetensors'));
  bytes[8] = 0x5b; // '{' -> '['
  writeFileSync(join(flipped, 'checkpoint.safetensors'), bytes);
  refused(flipped, /flipped\/checkpoint.safetensors: is not the tensors file .*flipped\/checkpoint.json was written with/);
  // a corrupt header that checkpoint.json does describe: the parser names the problem
  const recorded = JSON.parse(readFileSync(join(flipped, 'checkpoint.json'), 'utf8'));
  recorded.tensors.sha256 = sha(join(flipped, 'checkpoint.safetensors'));
  writeFileSync(join(flipped, 'checkpoint.json'), JSON.stringify(recorded));
  refused(flipped, /flipped\/checkpoint.safetensors: corrupt header: /);
  // a corrupt checkpoint.json
  const torn = copy('torn', false);
  writeFileSync(join(torn, 'checkpoint.json'), readFileSync(join(torn, 'checkpoint.json'), 'utf8').slice(0, 100));
  refused(torn, /torn\/checkpoint.json: corrupt JSON/);
  // a checkpoint of another configuration
  const other = copy('other', false);
  const config = JSON.parse(readFileSync(join(other, 'config.json'), 'utf8'));
  writeFileSync(join(other, 'config.json'), JSON.stringify({ ...config, method: 'al', alLayers: 2, targetLr: 0.002 }));
  refused(other, /other\/checkpoint.json: was written for method "bp", but .*other\/config.json has "al"/);
  // the same configuration on both sides but the tensors of another shape: the tensor is named
  const shape = copy('shape');
  const edited = JSON.parse(readFileSync(join(shape, 'checkpoint.json'), 'utf8'));
  const tensors = readFileSync(join(shape, 'checkpoint.safetensors'));
  const headerLength = Number(tensors.readBigUInt64LE(0));
  const header = tensors.subarray(8, 8 + headerLength).toString().replace('"shape":[1024,784]', '"shape":[784,1024]');
  Buffer.from(header).copy(tensors, 8);
  writeFileSync(join(shape, 'checkpoint.safetensors'), tensors);
  edited.tensors.sha256 = sha(join(shape, 'checkpoint.safetensors'));
  writeFileSync(join(shape, 'checkpoint.json'), JSON.stringify(edited));
  refused(shape, /shape\/checkpoint.safetensors: tensor '1.0.weight' has shape \[784, 1024\], the model needs \[1024, 784\]/);
});
