// The tables of al reproduce: what each runs, that distance-ratio shares the CIFAR tables' runs
// (same directories and budgets, so nothing is trained twice), and ours placed beside the
// published figures in the paper's layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CIFAR_EPOCHS, PUBLISHED_ACCURACY, TABLES, experimentConfig, experiments, trainArgs } from '../../../src/cli/commands/reproduce_tables.js';
import { accuracyRows, accuracyText, distanceRows, distanceText, type RunDistances, type RunResult } from '../../../src/cli/commands/reproduce_text.js';
import { reproduceCommand } from '../../../src/cli/commands/reproduce.js';
import { UsageError } from '../../../src/cli/errors.js';

test('cifar10 and cifar100: BP and AL for each of the five backbones, at the default budgets or --epochs', () => {
  for (const table of ['cifar10', 'cifar100'] as const) {
    const list = experiments(table, undefined);
    assert.deepEqual(list.map((e) => e.name), ['mlp', 'cnn', 'vgg', 'resnet20', 'resnet32'].flatMap((m) => [`${m}-bp`, `${m}-al`]));
    assert.ok(list.every((e) => e.dataset === table && e.dir === `${table}/${e.name}` && e.epochs === CIFAR_EPOCHS[e.model]));
    assert.ok(experiments(table, 3).every((e) => e.epochs === 3));
  }
  const config = experimentConfig(experiments('cifar100', 1)[1]!);
  assert.equal(config.label, 'fine', 'CIFAR-100: the 100 fine classes, as the published table');
  assert.equal(config.method, 'al');
});

test('every table\'s runs are valid al train settings, with names and directories unique in the table', () => {
  for (const table of TABLES) {
    const list = experiments(table, 2);
    assert.equal(new Set(list.map((e) => e.name)).size, list.length, table);
    assert.equal(new Set(list.map((e) => e.dir)).size, list.length, table);
    for (const e of list) {
      const config = experimentConfig(e, 64);
      assert.deepEqual([config.model, config.dataset, config.method, config.epochs, config.limit], [e.model, e.dataset, e.method, 2, 64], e.name);
    }
  }
});

test('distance-ratio trains nothing the cifar10 and cifar100 tables would not: same directories, settings and budgets', () => {
  for (const epochs of [undefined, 4]) {
    const shared = [...experiments('cifar10', epochs), ...experiments('cifar100', epochs)];
    const list = experiments('distance-ratio', epochs);
    assert.deepEqual(list.map((e) => e.name), ['cifar10-mlp-bp', 'cifar10-mlp-al', 'cifar10-cnn-bp', 'cifar10-cnn-al', 'cifar100-mlp-bp', 'cifar100-mlp-al', 'cifar100-cnn-bp', 'cifar100-cnn-al']);
    for (const e of list) {
      const twin = shared.find((s) => s.dir === e.dir);
      assert.ok(twin, e.name);
      assert.deepEqual(trainArgs(e), trainArgs(twin));
      assert.equal(e.epochs, twin.epochs);
    }
  }
});

const result = (name: string, testAccuracy: number): RunResult => ({ name, epochs: 2, testAccuracy, trainAccuracy: null, samplesPerSec: 1, seconds: 1, runDir: name });

test('accuracy table: one row per network run, ours beside the published mean ± std, a dash where none is published', () => {
  const list = experiments('cifar10', 2).filter((e) => e.model === 'cnn' || e.model === 'resnet20');
  const rows = accuracyRows('cifar10', list, [result('resnet20-bp', 0.8612), result('cnn-al', 0.5)]);
  assert.deepEqual(rows.map((r) => r.network), ['Vanilla CNN', 'ResNet-20']);
  assert.deepEqual(rows[1]!.bp, { ours: 0.8612, epochs: 2, published: PUBLISHED_ACCURACY.cifar10.resnet20!.bp });
  assert.deepEqual(rows[1]!.al, { ours: null, epochs: null, published: PUBLISHED_ACCURACY.cifar10.resnet20!.al }, 'not run yet');
  assert.equal(rows[0]!.bp.published, null, 'not legible in the reference');
  const text = accuracyText('cifar10', rows);
  assert.match(text.find((l) => l.includes('ResNet-20'))!, /ResNet-20\s+2\s+86\.12%\s+91\.2 ± 0\.4%\s+—\s+—\s+89\.1 ± 0\.5%/);
  assert.match(text.find((l) => l.includes('Vanilla CNN'))!, /Vanilla CNN\s+—\s+—\s+—\s+2\s+50\.00%\s+—/);
});

test('distance table: ours and the published ratios, row by row in the paper\'s order', () => {
  const list = experiments('distance-ratio', 1).filter((e) => e.dataset === 'cifar100' && e.model === 'cnn');
  const d = (name: string, inter: number, intra: number): RunDistances => ({ name, representation: 'r', features: 4, samples: 16, inter, intra, ratio: inter / intra });
  const rows = distanceRows(list, [d('cifar100-cnn-bp', 3, 2), d('cifar100-cnn-al', 0.5, 0.25)]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.network, 'Vanilla CNN');
  assert.deepEqual(rows[0]!.published.bp, { inter: 114.71, intra: 163.43, ratio: 0.70 });
  const text = distanceText(rows);
  assert.match(text.find((l) => l.includes('CIFAR-100'))!, /CIFAR-100\s+Vanilla CNN\s+ours\s+3\.00\s+2\.00\s+1\.50\s+0\.50\s+0\.25\s+2\.00/);
  assert.match(text.find((l) => l.includes('published') && l.includes('114'))!, /published\s+114\.71\s+163\.43\s+0\.70\s+0\.55\s+0\.51\s+1\.08/);
});

test('al reproduce --target: only for time-to-accuracy, a percentage in (0, 100]', async () => {
  await assert.rejects(reproduceCommand(['mnist', '--target', '98']), (e: Error) => e instanceof UsageError && /--target: only applies to the time-to-accuracy table/.test(e.message));
  for (const bad of ['0', '101', 'abc', '']) {
    await assert.rejects(reproduceCommand(['time-to-accuracy', '--target', bad]), (e: Error) => e instanceof UsageError && /--target: expected a test accuracy in percent/.test(e.message), bad);
  }
});
