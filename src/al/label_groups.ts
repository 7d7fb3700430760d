// The target path of an AL layer, t_i = g_i(t_{i-1}) and the decoder h_i, depends on nothing but
// the label: t_0 is one-hot, so all samples of a class have the same t_i at every layer. A batch
// of B samples from C classes needs it for C rows only: g_i and h_i run on [C, n] instead of
// [B, n], and the rows are gathered out to the samples, for the associated loss's targets and for
// the autoencoder loss, whose gradient sums back onto the class rows (ops/rows.ts). The losses and
// gradients are the whole batch's; only float rounding differs. docs/design.md has what it saves
// on the MNIST MLP, whose g and h are 1024 wide.

/** Which samples of a batch share a label. */
export interface LabelGroups {
  /** per sample, the index of its label among the labels present */
  index: Int32Array;
  /** per label present, in order of first appearance, its first sample */
  first: Int32Array;
}

export function labelGroups(labels: Int32Array): LabelGroups {
  const groupOf = new Map<number, number>();
  const first: number[] = [];
  const index = new Int32Array(labels.length);
  labels.forEach((label, i) => {
    let group = groupOf.get(label);
    if (group === undefined) {
      group = first.length;
      groupOf.set(label, group);
      first.push(i);
    }
    index[i] = group;
  });
  return { index, first: Int32Array.from(first) };
}
