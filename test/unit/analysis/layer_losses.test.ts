// metrics.jsonl read back with its errors named by file and line, and the per-layer loss table:
// first and last epoch, and the fall of the associated loss from layer 1 to the top.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerLossTable, parseMetrics } from '../../../src/analysis/layer_losses.js';

const line = (epoch: number, layers?: [number, number][]): string => JSON.stringify({
  epoch, method: 'al', trainLoss: 1, trainAccuracy: null, testAccuracy: 0.9, samplesPerSec: 100, seconds: 2, lr: 1e-3,
  ...(layers ? { layers: layers.map(([associatedLoss, autoencoderLoss]) => ({ associatedLoss, autoencoderLoss })) } : {}),
});

test('the table: first and last epoch per layer, and layer 1 over layer L of the last epoch', () => {
  const text = [line(1, [[1.2, 0.5], [3e-2, 0.1], [4e-3, 0.2]]), line(2, [[1, 0.4], [1e-3, 0.05], [1e-5, 0.01]]), line(3, [[0.8, 0.3], [8e-5, 0.02], [8e-7, 0.005]]), ''].join('\n');
  const t = layerLossTable(parseMetrics(text, 'm.jsonl'), 'm.jsonl');
  assert.equal(t.firstEpoch, 1);
  assert.equal(t.lastEpoch, 3);
  assert.deepEqual(t.rows.map((r) => [r.layer, r.first.associatedLoss, r.last.associatedLoss, r.first.autoencoderLoss, r.last.autoencoderLoss]),
    [[1, 1.2, 0.8, 0.5, 0.3], [2, 3e-2, 8e-5, 0.1, 0.02], [3, 4e-3, 8e-7, 0.2, 0.005]]);
  assert.ok(Math.abs(t.depthRatio! - 1e6) < 1e-3, `0.8 / 8e-7 = 1e6, got ${t.depthRatio}`);
  assert.ok(Math.abs(t.depthOrders! - 6) < 1e-9);
});

test('one AL layer has no depth ratio; a BP run has no per-layer losses', () => {
  const one = layerLossTable(parseMetrics(line(1, [[0.5, 0.1]]), 'm.jsonl'), 'm.jsonl');
  assert.equal(one.depthRatio, null);
  assert.equal(one.depthOrders, null);
  assert.throws(() => layerLossTable(parseMetrics(line(1), 'run/metrics.jsonl'), 'run/metrics.jsonl'),
    /run\/metrics\.jsonl: no epoch has per-layer losses \('layers'\); only AL runs record them/);
});

test('parseMetrics names the file and the line of what is wrong', () => {
  assert.throws(() => parseMetrics(`${line(1)}\n{"epoch": 2,`, 'r/metrics.jsonl'), /^AnalysisError: r\/metrics\.jsonl:2: not JSON/);
  assert.throws(() => parseMetrics('[1, 2]', 'r/metrics.jsonl'), /r\/metrics\.jsonl:1: expected a JSON object/);
  assert.throws(() => parseMetrics(line(1).replace('"samplesPerSec":100', '"samplesPerSec":"fast"'), 'f'), /f:1: expected a number in 'samplesPerSec', got "fast"/);
  assert.throws(() => parseMetrics(line(1, [[1, 2]]).replace('"autoencoderLoss":2', '"autoencoderLoss":null'), 'f'), /f:1: expected 'layers' to be a list of \{associatedLoss, autoencoderLoss\}/);
  assert.throws(() => parseMetrics(JSON.stringify({ ...JSON.parse(line(1)), utilisation: [0.5, 'x'] }), 'f'), /f:1: expected 'utilisation' to be a list of numbers/);
  assert.throws(() => parseMetrics('\n\n', 'r/metrics.jsonl'), /r\/metrics\.jsonl: no epochs recorded/);
});
