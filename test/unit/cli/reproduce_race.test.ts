// al reproduce time-to-accuracy's settings: its runs (two cores each), targets by flag, --quick,
// subsets, and the errors of its flags and of al train's evaluation flags.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BENCHMARKS, RACE_CONFIGS, parseRaceSettings, parseTargets, racePlan } from '../../../src/cli/commands/reproduce_race.js';
import { reproduceCommand } from '../../../src/cli/commands/reproduce.js';
import { parseTrainConfig, type TrainConfig } from '../../../src/cli/commands/train.js';
import { UsageError } from '../../../src/cli/errors.js';

const config = (args: string[]): TrainConfig => {
  const c = parseTrainConfig([...args, '--out', '/tmp/x']);
  assert.notEqual(c, 'help');
  return c as TrainConfig;
};

test('the plan: every benchmark × configuration, two cores each, targets as until-accuracy, epochs by benchmark', () => {
  const plan = racePlan(parseRaceSettings({}));
  // bp-al-size is for the MLPs only
  assert.equal(plan.length, BENCHMARKS.length * RACE_CONFIGS.length - 1);
  assert.ok(!plan.some((p) => p.benchmark.model === 'cnn' && p.config.name === 'bp-al-size'));
  assert.deepEqual(BENCHMARKS.map((b) => [b.name, b.target]), [['mnist-mlp', 98.5], ['mnist-cnn', 99.2], ['fashion-mnist-mlp', 89]]);
  const cores = plan.map((p) => {
    const c = config(p.args);
    return [p.config.name, c.pipeline ? c.workers! * c.threads : c.threads];
  });
  assert.ok(cores.every(([, n]) => n === 2), JSON.stringify(cores));
  const cnnLean = plan.find((p) => p.benchmark.name === 'mnist-cnn' && p.config.name === 'al-pipeline-lean')!;
  const c = config(cnnLean.args);
  assert.deepEqual([c.model, c.method, c.pipeline, c.bridge, c.alLayers, c.epochs, c.evalEvery, c.untilAccuracy], ['cnn', 'al', true, 'lean', 2, 5, 100, 99.2]);
  const small = config(plan.find((p) => p.benchmark.name === 'fashion-mnist-mlp' && p.config.name === 'bp-al-size')!.args);
  assert.deepEqual([small.method, small.hidden, small.threads], ['bp', [1024, 1024, 1024, 1024, 1024], 2]);
  assert.match(cnnLean.dir, /runs\/reproduce\/time-to-accuracy\/mnist-cnn\/al-pipeline-lean$/);
});

test('--quick, --datasets, --configs, --eval-every, --max-seconds and --target NAME=PCT', () => {
  const s = parseRaceSettings({ quick: true, datasets: 'fashion-mnist-mlp', configs: 'bp,gpipe', target: 'fashion-mnist-mlp=20', 'max-seconds': '30', out: '/tmp/o' });
  assert.deepEqual([s.limit, s.epochs, s.evalEvery, s.maxSeconds, s.targets], [256, 1, 1, 30, { 'fashion-mnist-mlp': 20 }]);
  const plan = racePlan(s);
  assert.deepEqual(plan.map((p) => p.dir), ['/tmp/o/time-to-accuracy/fashion-mnist-mlp/bp', '/tmp/o/time-to-accuracy/fashion-mnist-mlp/gpipe']);
  const c = config(plan[1]!.args);
  assert.deepEqual([c.dataset, c.method, c.limit, c.epochs, c.evalEvery, c.maxSeconds, c.untilAccuracy], ['fashion-mnist', 'gpipe', 256, 1, 1, 30, 20]);
  assert.equal(parseRaceSettings({ quick: true, 'eval-every': '5', epochs: '2' }).evalEvery, 5, 'flags beside --quick win');
});

test('targets: one for all, or by name; unknown names and bad percentages refused', () => {
  assert.deepEqual(parseTargets('50', BENCHMARKS), { 'mnist-mlp': 50, 'mnist-cnn': 50, 'fashion-mnist-mlp': 50 });
  assert.deepEqual(parseTargets('mnist-cnn=99', BENCHMARKS), { 'mnist-mlp': 98.5, 'mnist-cnn': 99, 'fashion-mnist-mlp': 89 });
  assert.throws(() => parseTargets('cifar=50', BENCHMARKS), /--target: expected names among mnist-mlp, mnist-cnn, fashion-mnist-mlp, got 'cifar'/);
  assert.throws(() => parseTargets('mnist-mlp=101', BENCHMARKS), /--target: expected a test accuracy in percent, above 0 and at most 100, got '101'/);
});

test('the race\'s flag errors, and its flags on other tables', async () => {
  const usage = (values: Record<string, string | boolean>, pattern: RegExp): void => {
    assert.throws(() => parseRaceSettings(values), (e: Error) => e instanceof UsageError && pattern.test(e.message), pattern.source);
  };
  usage({ configs: 'al' }, /--configs: expected names among bp, bp-al-size, bp-lr5e-4, gpipe, al-wide, al-slim, al-lean, al-pipeline-wide, al-pipeline-slim, al-pipeline-lean, got 'al'/);
  usage({ datasets: '' }, /--datasets: expected names among/);
  usage({ 'data-dir': '/d' }, /--data-dir: MNIST and Fashion-MNIST are in different folders/);
  usage({ only: 'bp' }, /--only: not for time-to-accuracy/);
  usage({ 'max-seconds': '0' }, /--max-seconds: expected a number of seconds > 0, got '0'/);
  usage({ 'eval-every': '0' }, /--eval-every: expected an integer from 1/);
  await assert.rejects(reproduceCommand(['mnist', '--configs', 'bp']), /--configs: only applies to the time-to-accuracy table/);
  await assert.rejects(reproduceCommand(['mnist', '--quick']), /--quick: only applies to the time-to-accuracy table/);
});

test('al train: --eval-every, --until-accuracy, --max-seconds parsed and checked', () => {
  const c = config(['--eval-every', '50', '--until-accuracy', '98.5', '--max-seconds', '600']);
  assert.deepEqual([c.evalEvery, c.untilAccuracy, c.maxSeconds], [50, 98.5, 600]);
  assert.deepEqual([config([]).evalEvery, config([]).untilAccuracy, config([]).maxSeconds], [undefined, undefined, undefined]);
  assert.throws(() => config(['--until-accuracy', '0']), /--until-accuracy: expected a test accuracy in percent, above 0 and at most 100, got '0'/);
  assert.throws(() => config(['--until-accuracy', '0.9x']), /--until-accuracy: expected a test accuracy in percent/);
  assert.throws(() => config(['--max-seconds=-3']), /--max-seconds: expected a number of seconds > 0, got '-3'/);
  assert.throws(() => config(['--eval-every', '1.5']), /--eval-every: expected an integer from 1/);
});
