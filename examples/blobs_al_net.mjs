// The AL network of examples/custom_al_net.mjs, in a module of its own: pipeline stages import it
// to build their layers (ALNetModule), so it must only define the net, never train it.
//
// AL layer i has four parts (src/al/al_layer.ts): f_i encodes s_{i-1} -> s_i, the bridge b_i
// maps s_i into the space of t_i, g_i encodes the target t_{i-1} -> t_i (t_0 = the one-hot
// label) and h_i decodes t_i -> t_{i-1}. Each layer trains on its own two losses,
// ||b_i(s_i) - t_i||² (f_i, b_i) and ||h_i(t_i) - t_{i-1}||² (g_i, h_i), with its own optimizers.
import { ALLayer, Activation, AssociatedNet, Flatten, Linear, Sequential } from 'associated-learning';

export const FEATURES = 8, CLASSES = 3;

/** Three AL layers of Linear maps; the same shapes on every call, the weights drawn from `rng`. */
export function buildNet(rng) {
  // widths of s_0..s_3 (s_0 = x) and of t_0..t_3 (t_0 = the one-hot label)
  const s = [FEATURES, 32, 32, 32], t = [CLASSES, 16, 16, 16];
  const dense = (from, to, kind) => new Sequential(new Linear(from, to, rng), new Activation(kind));
  const layers = [1, 2, 3].map((i) => new ALLayer(i, {
    // x comes as [batch, 1, 1, features]: layer 1 flattens it first
    f: i === 1 ? new Sequential(new Flatten(), dense(s[0], s[1], 'relu')) : dense(s[i - 1], s[i], 'relu'),
    b: dense(s[i], t[i], 'sigmoid'),
    g: dense(t[i - 1], t[i], 'sigmoid'),
    h: dense(t[i], t[i - 1], 'sigmoid'),
  }, { lr: 3e-3, targetLr: 6e-3, weightDecay: 0, milestones: [] }));
  return new AssociatedNet(layers, CLASSES);
}
