// One stage of a pipelined BP network: a contiguous run of the backbone's top-level modules with
// its own optimizer over their parameters. Unlike an AL stage it must keep each (micro-)batch's
// graph alive from its forward until the gradient comes back from downstream, because BP is
// backward-locked: the stage cannot update before the whole network has seen the batch.
//
//   gpipe: a mini-batch is split into M micro-batches; gradients of all M accumulate and the
//          stage updates once, at the flush. The update equals BP on the whole mini-batch (up to
//          float summation order; batch norm normalises per micro-batch, as in GPipe).
//   naive: every batch updates the stage as soon as its gradient arrives, while later batches
//          are already in flight: their forward ran with older weights than their backward, and
//          the gradient that reaches an earlier stage was computed with newer downstream weights.
//          That is the stale-gradient schedule the authors' slides warn about, built to show it is wrong.
import type { Layer } from '../../nn/layer.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { softmaxCrossEntropy } from '../../tensor/ops/loss.js';
import { Tensor } from '../../tensor/tensor.js';
import { backend } from '../../backend/backend.js';
import { Sequential } from '../../nn/container.js';
import { countCorrect } from '../../train/evaluate.js';

export type BpPipelineMethod = 'gpipe' | 'naive-pipeline';

interface InFlight {
  input: Tensor;
  output: Tensor;
  /** last stage: the micro-batch's loss, and its share of the mini-batch (the seed of its backward) */
  loss?: Tensor;
  share?: number;
  /** optimizer updates this stage had made when the forward ran (for staleness) */
  version: number;
}

export interface ForwardResult {
  /** activation for the next stage (absent on the last stage) */
  output?: Tensor;
  /** last stage: loss (mean over the micro-batch) and correct predictions */
  loss?: number;
  correct?: number;
}

export class BpStage {
  readonly module: Layer;
  private readonly inFlight = new Map<string, InFlight>();
  private version = 0;
  /** sum over backward passes of (updates made since that batch's forward) */
  staleness = 0;

  constructor(readonly modules: Layer[], readonly optimizer: Optimizer, readonly first: boolean, readonly last: boolean) {
    this.module = modules.length === 1 ? modules[0]! : new Sequential(...modules);
  }

  /**
   * Forward of micro-batch `micro` of batch `index`. `share` is the micro-batch's fraction of the
   * mini-batch, so that the micro-batch losses add up to the mini-batch's mean loss.
   */
  forward(index: number, micro: number, x: Tensor, labels: Int32Array | null, share: number): ForwardResult {
    const input = this.first ? x : new Tensor(x.data, x.shape, true);
    // NHWC at the stage's edge: the output and its gradient cross to another stage as plain data
    const output = this.module.forward(input).toLayout('nhwc');
    const entry: InFlight = { input, output, version: this.version };
    this.inFlight.set(`${index}/${micro}`, entry);
    if (!this.last) return { output: output.detach() };
    const loss = softmaxCrossEntropy(output, labels!);
    const value = loss.data[0]!;
    const rows = output.shape[0]!;
    const predictions = new Int32Array(rows);
    backend().argmaxRows(output.data, predictions, rows, output.shape[1]!);
    entry.loss = loss;
    entry.share = share;
    return { loss: value, correct: countCorrect(predictions, labels!) };
  }

  /**
   * Backward of a micro-batch: from the gradient of this stage's output (null on the last stage,
   * which starts from its loss). Returns the gradient of the stage's input for the previous stage
   * (null on the first stage).
   */
  backward(index: number, micro: number, grad: Float32Array | null): Float32Array | null {
    const key = `${index}/${micro}`;
    const entry = this.inFlight.get(key);
    if (!entry) throw new Error(`stage: a gradient for batch ${index}, micro-batch ${micro} that was never forwarded`);
    this.inFlight.delete(key);
    this.staleness += this.version - entry.version;
    if (this.last) entry.loss!.backward(Float32Array.of(entry.share!));
    else entry.output.backward(grad!);
    const gradInput = this.first ? null : entry.input.grad;
    entry.input.grad = null;
    return gradInput;
  }

  /** Applies the accumulated gradients: once per mini-batch (gpipe) or per batch (naive). */
  update(): void {
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.version++;
  }
}
