// One AL layer checked against an independent float64 computation: both losses, then one step
// of both Adam optimizers (whose first step moves each weight by lr * g / (|g| + eps)).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALLayer, ALDivergenceError } from '../../../src/al/al_layer.js';
import { oneHot } from '../../../src/al/associated_net.js';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { setBackend, withBackend } from '../../../src/backend/backend.js';
import type { Backend } from '../../../src/backend/kernel_names.js';
import { labelGroups } from '../../../src/al/label_groups.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Activation, BatchNorm, Linear, Sequential } from '../../../src/nn/index.js';
import { Rng } from '../../../src/tensor/rng.js';
import { noGrad, Tensor } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

type M = number[][];
const mat = (t: Tensor, rows: number, cols: number): M => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => t.data[i * cols + j]!));
const T = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
const mul = (a: M, b: M): M => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const map = (a: M, f: (v: number, i: number, j: number) => number): M => a.map((r, i) => r.map((v, j) => f(v, i, j)));
const sumRows = (a: M): number[] => a[0]!.map((_, j) => a.reduce((s, r) => s + r[j]!, 0));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const elu = (v: number): number => (v > 0 ? v : Math.expm1(v));

/** y = act(x W^T + b) in float64, returning pre-activation too. */
function dense(x: M, layer: Linear, act: (v: number) => number): { z: M; y: M } {
  const w = mat(layer.weight, layer.outFeatures, layer.inFeatures);
  const z = map(mul(x, T(w)), (v, _, j) => v + layer.bias!.data[j]!);
  return { z, y: map(z, act) };
}

/** Backward of y = act(x W^T + b) given dy: dW, db and dx. */
function denseBack(x: M, layer: Linear, z: M, dy: M, dact: (z: number) => number): { dW: M; db: number[]; dx: M } {
  const dz = map(dy, (v, i, j) => v * dact(z[i]![j]!));
  const w = mat(layer.weight, layer.outFeatures, layer.inFeatures);
  return { dW: mul(T(dz), x), db: sumRows(dz), dx: mul(dz, w) };
}

const dsig = (z: number): number => sigmoid(z) * (1 - sigmoid(z));
const delu = (z: number): number => (z > 0 ? 1 : Math.exp(z));

for (const grouped of [false, true]) {
  test(`losses and one update step match an independent float64 computation${grouped ? ', with the target path run once per label' : ''}`, () => checkStep(grouped));
}

function checkStep(grouped: boolean): void {
  const rng = new Rng(11);
  const [batch, sIn, sOut, n, tIn] = [3, 4, 5, 3, 2];
  const f1 = new Linear(sIn, sOut, rng), b1 = new Linear(sOut, 5 * n, rng), b2 = new Linear(5 * n, n, rng);
  const g1 = new Linear(tIn, n, rng), h1 = new Linear(n, tIn, rng);
  for (const l of [f1, b1, b2, g1, h1]) l.bias!.data.forEach((_, i, a) => (a[i] = rng.normal() * 0.1));
  const layer = new ALLayer(1, {
    f: new Sequential(f1, new Activation('elu')),
    b: new Sequential(b1, new Activation('sigmoid'), b2, new Activation('sigmoid')),
    g: new Sequential(g1, new Activation('sigmoid')),
    h: new Sequential(h1, new Activation('sigmoid')),
  }, { lr: 0.01, targetLr: 0.02, weightDecay: 0, milestones: [] });
  const s0 = Tensor.from(Array.from({ length: batch * sIn }, () => rng.normal()), [batch, sIn]);
  const t0 = Tensor.from([1, 0, 0, 1, 1, 0], [batch, tIn]);

  // float64 forward
  const x = mat(s0, batch, sIn), t0m = mat(t0, batch, tIn);
  const F = dense(x, f1, elu), B1 = dense(F.y, b1, sigmoid), B2 = dense(B1.y, b2, sigmoid);
  const G = dense(t0m, g1, sigmoid), H = dense(G.y, h1, sigmoid);
  const mse = (a: M, b: M): number => a.flat().reduce((s, v, i) => s + (v - b.flat()[i]!) ** 2, 0) / a.flat().length;
  const associated = mse(B2.y, G.y), autoencoder = mse(H.y, t0m);

  // float64 backward: associated loss into b2, b1, f1 (t detached); autoencoder into h1, g1.
  const dB2 = map(B2.y, (v, i, j) => (2 * (v - G.y[i]![j]!)) / (batch * n));
  const gb2 = denseBack(B1.y, b2, B2.z, dB2, dsig);
  const gb1 = denseBack(F.y, b1, B1.z, gb2.dx, dsig);
  const gf1 = denseBack(x, f1, F.z, gb1.dx, delu);
  const dH = map(H.y, (v, i, j) => (2 * (v - t0m[i]![j]!)) / (batch * tIn));
  const gh1 = denseBack(G.y, h1, H.z, dH, dsig);
  const gg1 = denseBack(t0m, g1, G.z, gh1.dx, dsig);

  const before = [f1, b1, b2, g1, h1].map((l) => ({ w: l.weight.data.slice(), b: l.bias!.data.slice() }));
  // t0's rows 0 and 2 are the same label's
  const out = layer.trainStep(s0, t0, grouped ? labelGroups(Int32Array.of(0, 1, 0)) : undefined);
  assert.ok(Math.abs(out.losses.associatedLoss - associated) < 1e-6 * Math.max(1, associated), `associated ${out.losses.associatedLoss} vs ${associated}`);
  assert.ok(Math.abs(out.losses.autoencoderLoss - autoencoder) < 1e-6 * Math.max(1, autoencoder), `autoencoder ${out.losses.autoencoderLoss} vs ${autoencoder}`);
  out.s.data.forEach((v, i) => assert.ok(Math.abs(v - F.y.flat()[i]!) < 1e-6));
  assert.equal(out.s.requiresGrad, false);
  assert.equal(out.t.requiresGrad, false);

  // First Adam step: p -= lr * g / (|g| + eps) (bias-corrected m = g, v = g^2).
  const adam = (g: number, lr: number): number => (lr * g) / (Math.abs(g) + 1e-8);
  const grads = [[gf1, 0.01], [gb1, 0.01], [gb2, 0.01], [gg1, 0.02], [gh1, 0.02]] as const;
  [f1, b1, b2, g1, h1].forEach((l, k) => {
    const [g, lr] = grads[k]!;
    const dW = g.dW.flat();
    l.weight.data.forEach((v, i) => {
      const expected = before[k]!.w[i]! - adam(dW[i]!, lr);
      // a gradient within float32 noise of 0 may move either way; anything larger must match
      if (Math.abs(dW[i]!) > 1e-6) assert.ok(Math.abs(v - expected) < 1e-6, `part ${k} weight ${i}: ${v} vs ${expected}`);
    });
    l.bias!.data.forEach((v, i) => {
      if (Math.abs(g.db[i]!) > 1e-6) assert.ok(Math.abs(v - (before[k]!.b[i]! - adam(g.db[i]!, lr))) < 1e-6, `part ${k} bias ${i}`);
    });
  });
  out.t.data.forEach((v, i) => assert.ok(Math.abs(v - G.y.flat()[i]!) < 1e-6, `t ${i}: ${v} vs ${G.y.flat()[i]}`));
}

test('with label groups g and h run on one row per label, and the steps follow the ungrouped ones to float rounding', () => {
  // 4 classes, 3 of them in the batch: every size differs (batch 12, labels present 3, s 6, t 5)
  const layerOf = (): ALLayer => buildAssociatedNet({ model: 'mlp', inputShape: [1, 1, 6], classes: 4, tWidth: 5, layers: 1, bridge: 'slim', lr: 1e-2, rng: new Rng(4) }).layers[0]!;
  const [plain, grouped] = [layerOf(), layerOf()];
  const rng = new Rng(9);
  const labels = Int32Array.from({ length: 12 }, () => rng.int(3));
  labels[0] = 0; labels[1] = 1; labels[2] = 2;
  const groups = labelGroups(labels);
  const s0 = new Tensor(Float32Array.from({ length: 12 * 6 }, () => rng.normal()), [12, 1, 1, 6]);
  const t0 = oneHot(labels, 4);
  const products: [number, number][] = [];
  const counting = (inner: Backend): Backend => new Proxy(inner, {
    get: (b, key) => (key === 'matmul' ? (...args: Parameters<Backend['matmul']>) => { products.push([args[4].m, args[4].k]); b.matmul(...args); } : Reflect.get(b, key)),
  });
  for (let step = 0; step < 3; step++) {
    const a = plain.trainStep(s0, t0);
    products.length = 0;
    const b = withBackend(counting(referenceBackend), () => grouped.trainStep(s0, t0, groups));
    // g and h: forward 2, h's input gradient, both weight gradients, over the 3 labels present;
    // f and b: forward 3, b's two input gradients, three weight gradients, over the batch's 12
    const over = (rows: number): number => products.filter(([m, k]) => m === rows || k === rows).length;
    assert.deepEqual([over(3), over(12), products.length], [5, 8, 13], `products [m, k]: ${JSON.stringify(products)}`);
    assert.ok(Math.abs(a.losses.associatedLoss - b.losses.associatedLoss) < 1e-6, `associated ${a.losses.associatedLoss} vs ${b.losses.associatedLoss}`);
    assert.ok(Math.abs(a.losses.autoencoderLoss - b.losses.autoencoderLoss) < 1e-6, `autoencoder ${a.losses.autoencoderLoss} vs ${b.losses.autoencoderLoss}`);
    b.t.data.forEach((v, i) => assert.ok(Math.abs(v - a.t.data[i]!) < 1e-6, `t ${i}`));
    // the samples of a label carry the very same t_1
    const row = (r: number): number[] => [...b.t.data.subarray(r * 5, r * 5 + 5)];
    labels.forEach((label, r) => assert.deepEqual(row(r), row(label), `sample ${r}, label ${label}`));
    if (step === 0) assert.ok(labels.some((l, r) => r > 2 && l === 0), 'a label repeats');
  }
  const params = (layer: ALLayer): number[] => layer.namedParameters().flatMap(([, p]) => [...p.data]);
  const [pa, pb] = [params(plain), params(grouped)];
  pa.forEach((v, i) => assert.ok(Math.abs(v - pb[i]!) < 1e-5, `parameter ${i}: ${v} vs ${pb[i]}`));
});

test('a g with batch norm runs on every sample\'s row: its statistics are the batch\'s', () => {
  const rng = new Rng(6);
  const layer = new ALLayer(1, {
    f: new Linear(4, 3, rng), b: new Linear(3, 3, rng), g: new Sequential(new Linear(2, 3, rng), new BatchNorm(3)), h: new Linear(3, 2, rng),
  }, { lr: 0.01, targetLr: 0.02, weightDecay: 0, milestones: [] });
  const rows: number[] = [];
  const spy = new Proxy(referenceBackend, {
    get: (b, key) => (key === 'matmul' ? (...args: Parameters<Backend['matmul']>) => { if (!args[4].transA) rows.push(args[4].m); b.matmul(...args); } : Reflect.get(b, key)),
  });
  const labels = Int32Array.of(0, 1, 0, 1, 1);
  withBackend(spy, () => layer.trainStep(new Tensor(new Float32Array(20).fill(0.5), [5, 4]), oneHot(labels, 2), labelGroups(labels)));
  assert.ok(rows.length > 0 && rows.every((m) => m === 5), `rows of the products: ${rows}`);
});

test('label groups for another batch size are refused, naming the layer', () => {
  const layer = buildAssociatedNet({ model: 'mlp', inputShape: [1, 1, 4], classes: 2, tWidth: 3, layers: 1, rng: new Rng(1) }).layers[0]!;
  const s0 = new Tensor(new Float32Array(8), [2, 1, 1, 4]);
  assert.throws(() => layer.trainStep(s0, oneHot(Int32Array.of(0, 1), 2), labelGroups(Int32Array.of(0, 1, 1))), /AL layer 1: label groups for 3 samples, t_0 \[2, 2\] has 2/);
});

test('a non-finite loss names the AL layer and which loss went bad', () => {
  const rng = new Rng(2);
  const layer = new ALLayer(3, {
    f: new Linear(2, 2, rng), b: new Linear(2, 2, rng), g: new Linear(2, 2, rng), h: new Linear(2, 2, rng),
  }, { lr: 0.01, targetLr: 0.02, weightDecay: 0, milestones: [] });
  const nan = Tensor.from([Number.NaN, 0], [1, 2]);
  assert.throws(() => layer.trainStep(nan, Tensor.from([1, 0], [1, 2])), (e: unknown) => e instanceof ALDivergenceError && /AL layer 3: the associated loss became NaN/.test(e.message));
  assert.throws(() => layer.trainStep(Tensor.from([1, 0], [1, 2]), nan), (e: unknown) => e instanceof ALDivergenceError && /the associated loss|the autoencoder loss/.test(e.message));
});

// Adam's first step moves every weight by about lr in the direction of its gradient's sign. On one
// sample the gradient of the bridge's 5n -> n layer is delta_i h_j, so each code pre-activation
// moves by lr (sum_j |h_j| + 1): a shift that grows with the fan-in 5n, and that the wide bridge of
// our recipe takes at lr / 5.
test("one coherent step moves the wide bridge's code pre-activations by lr (sum |h| + 1), at lr / 5 in ours", () => {
  const lr = 1e-3;
  const shifts = (variant?: 'authors'): { shift: number[]; bound: number } => {
    const net = buildAssociatedNet({ model: 'mlp', inputShape: [1, 1, 16], classes: 10, tWidth: 24, layers: 1, lr, rng: new Rng(3), ...(variant ? { variant } : {}) });
    const layer = net.layers[0]!;
    const b = layer.parts.b as Sequential;
    const x = new Tensor(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)), [1, 1, 1, 16]);
    const hidden = noGrad(() => b.layers[1]!.forward(b.layers[0]!.forward(layer.parts.f.forward(x))));
    const out = b.layers[2]! as Linear;
    const before = noGrad(() => out.forward(hidden)).data.slice();
    layer.trainStep(x, oneHot(Int32Array.of(4), 10));
    const after = noGrad(() => out.forward(hidden)).data;
    return { shift: [...after].map((v, i) => Math.abs(v - before[i]!)), bound: lr * (hidden.data.reduce((s, h) => s + Math.abs(h), 0) + 1) };
  };
  const ours = shifts(), authors = shifts('authors');
  for (const s of authors.shift) assert.ok(Math.abs(s - authors.bound) < 1e-3 * authors.bound, `authors: ${s} vs ${authors.bound}`);
  for (const s of ours.shift) assert.ok(Math.abs(s - ours.bound / 5) < 1e-3 * ours.bound, `ours: ${s} vs ${ours.bound / 5}`);
});
