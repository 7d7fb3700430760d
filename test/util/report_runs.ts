// Run directories with every file the report reads, made up but of the real layouts (config.json,
// metrics.jsonl, trace.json, analysis.json): a BP run, a pipelined AL run, a GPipe run and a naive
// pipelined run. Names and labels carry HTML ('<i id=pwn>', '</script>') so the tests can check
// that the page escapes them. Every value follows from a formula here, so the tests can recompute
// what the page must show.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HOSTILE = `<i id=pwn>&"'`;
export const HOSTILE_LAYER = `s1 </script><i id=pwn>`;

const machine = { cpu: 'Test CPU <model>', cores: 2, isa: 'avx2', threads: 1, node: 'v20.0.0', backend: 'native' };
const BATCH = 64, SAMPLES = 256, EPOCHS = 3, BATCHES = SAMPLES / BATCH;

export function testAccuracy(run: number, epoch: number): number {
  return 0.5 + 0.1 * epoch + 0.01 * run;
}

function epochs(run: number, extra: (epoch: number) => Record<string, unknown>): string {
  return Array.from({ length: EPOCHS }, (_, k) => {
    const epoch = k + 1;
    // samplesPerSec × seconds = SAMPLES: the trace's batches per epoch follow from it
    return JSON.stringify({ epoch, trainLoss: 2 / epoch, testAccuracy: testAccuracy(run, epoch), samplesPerSec: 512 * epoch, seconds: SAMPLES / (512 * epoch), lr: 1e-3, ...extra(epoch) });
  }).join('\n') + '\n';
}

/** A t-SNE layer: `n` points in three clusters, one per class. */
function tsneLayer(name: string, n: number, spread: number): { name: string; kl: number; points: number[]; labels: number[] } {
  const points: number[] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3, angle = (2 * Math.PI * c) / 3, r = (i % 7) * spread;
    points.push(10 * Math.cos(angle) + r * Math.cos(i), 10 * Math.sin(angle) + r * Math.sin(i));
    labels.push(c);
  }
  return { name, kl: 1.25, points, labels };
}

/** Intervals of a pipeline: stage s works on batch b in [12(b + s) + gap, … + 10), a 50 ms drain between epochs. */
interface TraceInterval { stage: number; batch: number; kind: string; start: number; end: number }

function intervals(stages: number, kinds: string[]): TraceInterval[] {
  const out: TraceInterval[] = [];
  for (let b = 0; b < EPOCHS * BATCHES; b++) {
    const gap = 50 * Math.floor(b / BATCHES);
    for (let s = 0; s < stages; s++) {
      kinds.forEach((kind, k) => {
        const start = 100 + 12 * (b + s) + gap + (10 / kinds.length) * k;
        out.push({ stage: s, batch: b, kind, start, end: start + 10 / kinds.length });
      });
    }
  }
  return out;
}

function write(dir: string, files: Record<string, string | object>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
}

export interface ReportRuns {
  bp: string;
  al: string;
  gpipe: string;
  naive: string;
}

export function writeReportRuns(base: string): ReportRuns {
  const dirs = { bp: join(base, `bp ${HOSTILE}`), al: join(base, 'al'), gpipe: join(base, 'gpipe'), naive: join(base, 'naive') };
  const config = (method: string, extra: Record<string, unknown> = {}): object => ({ model: 'mlp', dataset: 'mnist', method, epochs: EPOCHS, batch: BATCH, optimizer: 'adam', lr: 1e-3, seed: 1, threads: 1, limit: SAMPLES, parameters: 1000, ...extra, machine });
  write(dirs.bp, {
    'config.json': config('bp'),
    'metrics.jsonl': epochs(0, (e) => ({ method: 'bp', trainAccuracy: 0.4 + 0.1 * e })),
    'analysis.json': {
      distanceRatio: { samples: 100, seed: 1, rows: [{ name: 'x (input)', features: 784, inter: 9, intra: 10, ratio: 0.9, classes: 10, samples: 100 }, { name: '1 Linear+ReLU', features: 1024, inter: 12, intra: 8, ratio: 1.5, classes: 10, samples: 100 }], targets: [] },
      tsne: { perplexity: 30, samples: 90, layers: [tsneLayer('x (input)', 90, 0.5), tsneLayer('5 Linear', 90, 0.2)] },
    },
  });
  write(dirs.al, {
    'config.json': config('al', { pipeline: true, workers: 3, alLayers: 3, tWidth: 32, trace: true }),
    'metrics.jsonl': epochs(1, (e) => ({
      method: 'al', pipeline: true, trainAccuracy: null, utilisation: [0.8, 0.7, 0.6],
      layers: [1, 2, 3].map((k) => ({ associatedLoss: 10 ** -(k * e), autoencoderLoss: 0.1 / (k * e) })),
    })),
    'trace.json': { clock: 'ms', method: 'al', stages: [0, 1, 2].map((s) => ({ stage: s, layers: [s + 1] })), intervals: intervals(3, ['step']) },
    'analysis.json': {
      runDir: 'ignored', unknownKey: { ignored: true },
      layerLosses: { firstEpoch: 1, lastEpoch: 3, rows: [] },
      layerCodes: { samples: 100, rows: [1, 2, 3].map((layer) => ({ layer, features: 32, associated: 10 ** -(2 * layer), spread: 10 ** -layer, normalised: 10 ** -layer, nearestCodeAccuracy: 1 - 0.25 * layer })) },
      distanceRatio: {
        samples: 100, seed: 1,
        rows: ['x (input)', 's1', 'b1(s1)', 's2', 'b2(s2)'].map((name, k) => ({ name, features: 32, inter: 10 + k, intra: 10 - k, ratio: (10 + k) / (10 - k), classes: 10, samples: 100 })),
        targets: [{ name: 't1', inter: 1.5, features: 32 }, { name: 't2', inter: 1.25, features: 32 }],
      },
      exitAccuracy: [{ exit: 1, testAccuracy: 0.81 }, { exit: 2, testAccuracy: 0.83 }, { exit: 3, testAccuracy: 0.84 }],
      tsne: { perplexity: 30, samples: 90, layers: [tsneLayer(HOSTILE_LAYER, 90, 0.3), tsneLayer('s3', 90, 0.1)] },
      timeline: { projection: { rows: [{ devices: 1, samplesPerSec: 2000, msPerBatch: 32 }, { devices: 2, samplesPerSec: 3500, msPerBatch: 18.3 }, { devices: 4, samplesPerSec: null, msPerBatch: null }], measured: { stages: 3, samplesPerSec: 1500, projected: 1600, deviation: -0.0625 } } },
    },
  });
  write(dirs.gpipe, {
    'config.json': config('gpipe', { pipeline: true, workers: 2, microBatches: 2, trace: true }),
    'metrics.jsonl': epochs(2, (e) => ({ method: 'gpipe', pipeline: true, trainAccuracy: 0.3 + 0.1 * e, utilisation: [0.5, 0.4] })),
    'trace.json': { clock: 'ms', method: 'gpipe', stages: [{ stage: 0, modules: [0, 1, 2, 3] }, { stage: 1, modules: [4, 5, 6] }], intervals: intervals(2, ['forward', 'backward', 'update']) },
  });
  write(dirs.naive, {
    'config.json': config('naive-pipeline', { pipeline: true, workers: 2, trace: true }),
    'metrics.jsonl': epochs(3, (e) => ({ method: 'naive-pipeline', pipeline: true, trainAccuracy: 0.2 + 0.1 * e, utilisation: [0.3, 0.3], staleness: 0.25 })),
    'trace.json': { clock: 'ms', method: 'naive-pipeline', stages: [{ stage: 0, modules: [0, 1, 2, 3] }, { stage: 1, modules: [4, 5, 6] }], intervals: intervals(2, ['forward', 'backward', 'update']) },
  });
  return dirs;
}
