#!/usr/bin/env python3
"""PyTorch reference side of `al bench`.

Runs the same workloads as our core's benchmark so `al bench` can print
ours/PyTorch ratios from one invocation. Contract with src/bench/torch_runner.ts:
the LAST line of stdout is one JSON object

    {"torch": str, "isa": str, "results": [{"workload", "threads", "value",
     "unit", "variant", ...}], ...}

Everything else (progress, warnings) goes to stderr so stdout stays parseable.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

WORKLOADS = [
    "matmul-2048",
    "matmul-128x784x1024",
    "matmul-128x1024x5120",
    "conv-fwd",
    "conv-bwd-data",
    "conv-bwd-weights",
    "train-mlp",
    "train-cnn",
    "train-resnet20",
    "train-al-mlp",
    "train-al-cnn",
]

BATCH = 128


def log(msg):
    print(f"[torch_bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

class Timing:
    """Seconds budget per figure. The measured time is split into segments so a
    burst of interference from another process on this shared 2-core machine
    spoils one segment, not the whole figure; we report the median segment."""

    def __init__(self, quick):
        self.quick = quick
        self.warmup_s = 0.1 if quick else 0.3
        self.warmup_min_iters = 1 if quick else 2
        self.segments = 1 if quick else 3
        self.total_s = 0.25 if quick else 1.2


def measure(step, timing):
    """Returns per-iteration seconds for each measured segment. `step` runs one
    iteration. Warm-up first (first calls allocate, create oneDNN primitives,
    reorder weights), then segments each running until its share of the budget
    is spent; the clock is read per iteration, which costs ~100 ns against
    millisecond-scale iterations."""
    t0 = time.perf_counter()
    if timing.quick:
        step()
        first = time.perf_counter() - t0
        # In quick mode a call slower than the whole budget (reference-BLAS
        # matmul or MLP step: seconds each) is its own measurement; its
        # one-off setup costs (allocation, primitive creation) are a few ms,
        # i.e. < 1 %, and this halves the quick run.
        if first >= timing.total_s:
            return [first]
    n = 1 if timing.quick else 0
    elapsed = time.perf_counter() - t0
    while n < timing.warmup_min_iters or elapsed < timing.warmup_s:
        step()
        n += 1
        elapsed = time.perf_counter() - t0
        # A kernel slower than the whole budget per call (e.g. a reference-BLAS
        # 2048^3 matmul at ~6 s) is warm after one call; more would only burn
        # minutes.
        if elapsed >= timing.total_s:
            break
    est = max(elapsed / n, 1e-9)
    # Fewer segments when one iteration alone would overrun a segment, so slow
    # kernels are measured once instead of three times.
    segments = max(1, min(timing.segments, int(timing.total_s / est)))
    seg_s = timing.total_s / segments
    per_iter = []
    for _ in range(segments):
        iters = 0
        start = time.perf_counter()
        while True:
            step()
            iters += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seg_s:
                break
        per_iter.append(elapsed / iters)
    return per_iter


def rate_figure(per_iter, work_per_iter, scale):
    """Turns per-iteration times into (median rate, all segment rates)."""
    rates = [work_per_iter / t / scale for t in per_iter]
    return statistics.median(rates), rates


# --------------------------------------------------------------------------
# Workloads. Each returns a list of candidates (variant, per_iter_times);
# the caller reports the fastest as `value` and all of them in `candidates`.
# --------------------------------------------------------------------------

MATMUL_SHAPES = {
    "matmul-2048": (2048, 2048, 2048),
    "matmul-128x784x1024": (128, 784, 1024),
    "matmul-128x1024x5120": (128, 1024, 5120),
}


def bench_matmul(torch, name, timing):
    m, k, n = MATMUL_SHAPES[name]
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    out = torch.empty(m, n)
    cands = []
    # The default dense path: what torch.mm / nn.Linear use. In fp32 on CPU this
    # goes to whatever BLAS PyTorch was linked with (not oneDNN).
    cands.append(("mm", measure(lambda: torch.mm(a, b, out=out), timing)))
    # PyTorch's own oneDNN (mkldnn) matmul, reachable through the mkldnn tensor
    # API (the path torch.utils.mkldnn uses for inference Linear). It computes
    # x @ W^T, so B is handed over transposed ([n,k]); the product is the same
    # [m,k] @ [k,n]. Conversions happen here, outside the timed loop.
    mk = getattr(getattr(torch._C, "_nn", None), "mkldnn_linear", None)
    if mk is not None and torch.backends.mkldnn.is_available():
        try:
            xa = a.to_mkldnn()
            wt = b.t().contiguous().to_mkldnn()
            mk(xa, wt, None)
            cands.append(("mkldnn", measure(lambda: mk(xa, wt, None), timing)))
        except RuntimeError as e:  # an unusual build may lack the op for these shapes
            log(f"{name}: mkldnn variant skipped: {e}")
    return cands, 2.0 * m * k * n


CONV = dict(n=BATCH, c=32, h=32, w=32, o=32, kh=3, kw=3, stride=1, pad=1)


def conv_flops():
    p = CONV
    oh = (p["h"] + 2 * p["pad"] - p["kh"]) // p["stride"] + 1
    ow = (p["w"] + 2 * p["pad"] - p["kw"]) // p["stride"] + 1
    return 2.0 * p["n"] * oh * ow * p["o"] * p["c"] * p["kh"] * p["kw"]


def conv_backend_name(torch, x, w):
    # Private helper (exists in 1.11+); only used to label the variant so the
    # report says which kernel family PyTorch picked.
    sel = getattr(torch._C, "_select_conv_backend", None)
    if sel is None:
        return None
    try:
        s = CONV["stride"]
        p = CONV["pad"]
        b = sel(x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1)
        return str(b).split(".")[-1].lower()
    except Exception:  # labelling must never fail a benchmark
        return None


def bench_conv(torch, name, timing):
    p = CONV
    x0 = torch.randn(p["n"], p["c"], p["h"], p["w"])
    w0 = torch.randn(p["o"], p["c"], p["kh"], p["kw"]) * 0.1
    s, pad = [p["stride"]] * 2, [p["pad"]] * 2
    dil, outpad = [1, 1], [0, 0]
    gy0 = torch.nn.functional.conv2d(x0, w0, None, s, pad)
    cands = []
    for fmt_name, fmt in (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)):
        x = x0.contiguous(memory_format=fmt)
        w = w0.contiguous(memory_format=fmt)
        gy = gy0.contiguous(memory_format=fmt)
        if name == "conv-fwd":
            def step():
                torch.nn.functional.conv2d(x, w, None, s, pad)
        else:
            # Exactly the kernel autograd calls for Conv2d backward (also what
            # torch.nn.grad.conv2d_input/_weight wrap), with the mask choosing
            # a single pass so each figure is one pass of 2*n*oh*ow*o*c*kh*kw.
            mask = [True, False, False] if name == "conv-bwd-data" else [False, True, False]

            def step():
                torch.ops.aten.convolution_backward(
                    gy, x, w, None, s, pad, dil, False, outpad, 1, mask)
        with torch.no_grad():
            times = measure(step, timing)
        backend = conv_backend_name(torch, x, w)
        cands.append((fmt_name + (f"/{backend}" if backend else ""), times))
    return cands, conv_flops()


# ---- training models ------------------------------------------------------

def build_mlp(nn):
    dims = [784, 1024, 1024, 5120, 1024, 1024, 10]
    layers = [nn.Flatten()]
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def build_cnn(nn):
    # (in, out, stride) for the 8 conv layers, all 3x3 pad 1 with bias.
    convs = [(3, 32, 1), (32, 32, 1), (32, 32, 1), (32, 32, 2),
             (32, 64, 1), (64, 64, 1), (64, 64, 1), (64, 64, 2)]
    layers = []
    for cin, cout, st in convs:
        layers += [nn.Conv2d(cin, cout, 3, stride=st, padding=1, bias=True), nn.ReLU()]
    layers.append(nn.Flatten())
    dims = [8 * 8 * 64, 1280, 256, 256, 256, 256, 10]
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def build_resnet20(torch, nn):
    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            if stride != 1 or cin != cout:
                # Projection shortcut (1x1 conv + BN) when the shape changes,
                # as the brief specifies (He et al.'s option B).
                self.shortcut = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
            else:
                self.shortcut = nn.Identity()

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + self.shortcut(x))

    class ResNet20(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
            blocks = []
            cin = 16
            for cout, first_stride in ((16, 1), (32, 2), (64, 2)):
                for i in range(3):
                    blocks.append(BasicBlock(cin, cout, first_stride if i == 0 else 1))
                    cin = cout
            self.blocks = nn.Sequential(*blocks)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(torch.flatten(self.pool(x), 1))

    return ResNet20()


def count_params(model):
    # Trainable parameters only: BN gamma/beta count, running stats (buffers) do not.
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def bench_train(torch, name, timing):
    nn = torch.nn
    if name == "train-mlp":
        shape = (BATCH, 1, 28, 28)
        formats = (("nchw", torch.contiguous_format),)  # no spatial layout to choose
    else:
        shape = (BATCH, 3, 32, 32)
        formats = (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last))
    cands = []
    params = None
    for fmt_name, fmt in formats:
        # Same seed per format so both variants train the identical model on
        # identical data.
        torch.manual_seed(0)
        if name == "train-mlp":
            model = build_mlp(nn)
        elif name == "train-cnn":
            model = build_cnn(nn)
        else:
            model = build_resnet20(torch, nn)
        model.train()
        params = count_params(model)
        x = torch.randn(*shape)
        y = torch.randint(0, 10, (BATCH,))
        if fmt is torch.channels_last:
            model = model.to(memory_format=fmt)
            x = x.contiguous(memory_format=fmt)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()  # softmax cross-entropy, mean over batch

        def step():
            # set_to_none skips a memset per gradient; it is the default from
            # PyTorch 2.0 on, i.e. what a current user gets.
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        cands.append((fmt_name, measure(step, timing)))
    return cands, float(BATCH), params


# ---- Associated Learning --------------------------------------------------
# The networks src/al/decompositions.ts builds, trained the way
# src/al/al_layer.ts does it: every AL layer takes one local step with its own
# two Adams, and no gradient crosses a layer boundary.

AL_CLASSES = 10

# (AL layers, t width n) per workload: the authors' MNIST cuts.
AL_SPECS = {
    "train-al-mlp": (2, 1024),
    "train-al-cnn": (4, 256),
}

# The CNN backbone's 8 conv units (in, out, stride), 3x3 pad 1 with bias + ELU,
# cut two per AL layer. Input is 28x28x1, so in = 1 for the first.
AL_CNN_CONVS = [(1, 32, 1), (32, 32, 1), (32, 32, 1), (32, 32, 2),
                (32, 64, 1), (64, 64, 1), (64, 64, 1), (64, 64, 2)]


def al_encoders(nn, name, n, layers):
    """f_1..f_L and the element count of each s_i."""
    if name == "train-al-mlp":
        encoders, prev = [], 28 * 28
        for i in range(layers):
            # Our dense unit flattens only when its input has more than one
            # axis, i.e. in f_1 (a view here: free).
            head = [nn.Flatten()] if i == 0 else []
            encoders.append((nn.Sequential(*head, nn.Linear(prev, n), nn.ELU()), n))
            prev = n
        return encoders
    encoders, side = [], 28
    per_layer = len(AL_CNN_CONVS) // layers
    for i in range(layers):
        mods = []
        for cin, cout, st in AL_CNN_CONVS[i * per_layer:(i + 1) * per_layer]:
            mods += [nn.Conv2d(cin, cout, 3, stride=st, padding=1, bias=True), nn.ELU()]
            side = (side + 2 - 3) // st + 1
        encoders.append((nn.Sequential(*mods), side * side * cout))
    return encoders


def build_al(torch, name, channels_last):
    """Returns [(f, b, g, h, adam_fb, adam_gh)] per AL layer."""
    nn = torch.nn

    class FlattenNHWC(nn.Module):
        # For channels_last activations: NCHW -> NHWC is then a pure stride
        # change, so this flatten is a view, where nn.Flatten would copy the
        # whole s_i (and its gradient) into NCHW order. It is also the order
        # our NHWC side flattens in.
        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1)

    layers, n = AL_SPECS[name]
    out, t_prev = [], AL_CLASSES
    for f, s_size in al_encoders(nn, name, n, layers):
        flat = []
        if name != "train-al-mlp":
            flat = [FlattenNHWC() if channels_last else nn.Flatten()]
        b = nn.Sequential(*flat, nn.Linear(s_size, 5 * n), nn.Sigmoid(),
                          nn.Linear(5 * n, n), nn.Sigmoid())
        g = nn.Sequential(nn.Linear(t_prev, n), nn.Sigmoid())
        h = nn.Sequential(nn.Linear(n, t_prev), nn.Sigmoid())
        t_prev = n
        if channels_last:
            f = f.to(memory_format=torch.channels_last)
        # Same split and learning rates as ALLayer: f, b at lr; g, h at 2 lr.
        # Default Adam (per-tensor loop on CPU), as in bench_train; foreach=True
        # was no better here on one quiet-box A/B (MLP +5 %, CNN -11 %).
        adam_fb = torch.optim.Adam([*f.parameters(), *b.parameters()], lr=1e-3)
        adam_gh = torch.optim.Adam([*g.parameters(), *h.parameters()], lr=2e-3)
        out.append((f, b, g, h, adam_fb, adam_gh))
    return out


def bench_train_al(torch, name, timing):
    F = torch.nn.functional
    if name == "train-al-mlp":
        formats = (("nchw", torch.contiguous_format),)  # no spatial layout to choose
    else:
        formats = (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last))
    cands = []
    params = None
    for fmt_name, fmt in formats:
        # Same seed per format so both variants train identical networks on
        # identical data.
        torch.manual_seed(0)
        al = build_al(torch, name, fmt is torch.channels_last)
        params = sum(count_params(part) for layer in al for part in layer[:4])
        x = torch.randn(BATCH, 1, 28, 28).contiguous(memory_format=fmt)
        y = torch.randint(0, AL_CLASSES, (BATCH,))

        def step():
            # As AssociatedNet.trainStep: t_0 is built per batch, then every
            # layer takes its local step in order on the detached outputs of
            # the previous one. g and h run on one row per label present and
            # their rows are gathered out to the samples (src/al/label_groups.ts).
            s = x
            present, index = torch.unique(y, return_inverse=True)
            t = F.one_hot(present, AL_CLASSES).to(x.dtype)
            for f, b, g, h, adam_fb, adam_gh in al:
                s_in, t_in = s.detach(), t.detach()
                adam_fb.zero_grad(set_to_none=True)
                adam_gh.zero_grad(set_to_none=True)
                s = f(s_in)
                t = g(t_in)
                associated = F.mse_loss(b(s), t.detach()[index])
                autoencoder = F.mse_loss(h(t)[index], t_in[index])
                associated.backward()
                autoencoder.backward()
                adam_fb.step()
                adam_gh.step()
                s, t = s.detach(), t.detach()

        cands.append((fmt_name, measure(step, timing)))
    return cands, float(BATCH), params


# --------------------------------------------------------------------------
# Environment description
# --------------------------------------------------------------------------

def cpu_isa(torch):
    cpu = getattr(torch.backends, "cpu", None)
    fn = getattr(cpu, "get_cpu_capability", None) if cpu is not None else None
    if fn is not None:
        try:
            return str(fn())
        except Exception:
            pass
    # Older releases (1.13) only print it in the build config.
    m = re.search(r"CPU capability usage:\s*(\S+)", torch.__config__.show())
    return m.group(1) if m else "unknown"


def build_config(torch):
    show = torch.__config__.show()

    def grab(pattern):
        m = re.search(pattern, show)
        return m.group(1) if m else None

    parallel = torch.__config__.parallel_info()
    m = re.search(r"ATen parallel backend:\s*(\S+)", parallel)
    return {
        "blas_info": grab(r"BLAS_INFO=([^,\s]+)"),
        "mkldnn": grab(r"(?:MKL-DNN|oneDNN) (v[\d.]+)"),
        "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "parallel_backend": m.group(1) if m else None,
    }


def load_avg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description="PyTorch side of `al bench`.")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma-separated subset of: " + ", ".join(WORKLOADS))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--quick", action="store_true", help="short warm-up and measurement")
    ap.add_argument("--json", action="store_true",
                    help="print only the JSON object on stdout (no human table)")
    args = ap.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}")
    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        ap.error("--threads must be comma-separated integers")
    if not threads or any(t < 1 for t in threads):
        ap.error("--threads needs positive integers")
    return workloads, threads, args.quick, args.json


def main(argv):
    workloads, threads, quick, json_only = parse_args(argv)
    import torch  # imported late so --help works without torch

    timing = Timing(quick)
    out = {
        "torch": torch.__version__,
        "isa": cpu_isa(torch),
        "config": build_config(torch),
        "quick": quick,
        "loadavg_start": load_avg(),
        "results": [],
    }
    for wl in workloads:
        for t in threads:
            torch.set_num_threads(t)
            if torch.get_num_threads() != t:
                log(f"asked for {t} threads, torch uses {torch.get_num_threads()}")
            if t > (os.cpu_count() or t):
                log(f"{t} threads exceed the {os.cpu_count()} CPUs: figures are oversubscribed")
            torch.manual_seed(0)
            t0 = time.perf_counter()
            params = None
            if wl.startswith("matmul-"):
                cands, work = bench_matmul(torch, wl, timing)
                unit, scale = "GFLOP/s", 1e9
            elif wl.startswith("conv-"):
                cands, work = bench_conv(torch, wl, timing)
                unit, scale = "GFLOP/s", 1e9
            elif wl.startswith("train-al-"):
                cands, work, params = bench_train_al(torch, wl, timing)
                unit, scale = "samples/s", 1.0
            else:
                cands, work, params = bench_train(torch, wl, timing)
                unit, scale = "samples/s", 1.0
            figures = {v: rate_figure(times, work, scale) for v, times in cands}
            best = max(figures, key=lambda v: figures[v][0])
            row = {
                "workload": wl,
                "threads": t,
                "value": round(figures[best][0], 3),
                "unit": unit,
                "variant": best,
                "candidates": {v: round(f[0], 3) for v, f in figures.items()},
                "samples": [round(r, 3) for r in figures[best][1]],
            }
            if params is not None:
                row["params"] = params
            out["results"].append(row)
            log(f"{wl} t={t}: {row['value']} {unit} ({best}); "
                f"all={row['candidates']} [{time.perf_counter() - t0:.1f}s]")
    out["loadavg_end"] = load_avg()
    if not json_only:
        for r in out["results"]:
            print(f"{r['workload']:<22} t={r['threads']:<2} {r['value']:>10.2f} "
                  f"{r['unit']:<9} {r['variant']}")
    # Must stay the last stdout line: the Node runner parses exactly this.
    print(json.dumps(out, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
