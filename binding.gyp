{
  # Three targets share one set of compiler settings: the kernels as a static library, the addon
  # that loads in every run (al_native), and the oneDNN-direct yardstick that only `al bench` and
  # its test load (al_bench), so production code cannot reach benchmark entry points.
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "native"
    ],
    "defines": [
      "NAPI_VERSION=8",
      "NAPI_CPP_EXCEPTIONS",
      # A worker thread terminated in the middle of a kernel call (a pipeline stopping after
      # another stage failed) cannot take a JS exception: without this, node-addon-api throws
      # again from its catch block and std::terminate aborts the whole process.
      "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
      "NODE_ADDON_API_DISABLE_DEPRECATED"
    ],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++17"],
    "cflags": ["-O3", "-march=native", "-fno-math-errno", "-fopenmp"],
    "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-fopenmp", "-fexceptions"],
    "ldflags": ["-fopenmp"],
    "libraries": ["-ldnnl", "-fopenmp"]
  },
  "targets": [
    {
      "target_name": "al_kernels",
      "type": "static_library",
      # linked into the two loadable modules below
      "cflags": ["-fPIC"],
      "sources": [
        "native/common.cc",
        "native/matmul.cc",
        "native/conv.cc",
        "native/pool.cc",
        "native/window.cc",
        "native/batch_norm.cc",
        "native/eltwise.cc",
        "native/image.cc",
        "native/own_kernels.cc",
        "native/random.cc",
        "native/tsne.cc",
        "native/tsne_affinities.cc",
        "native/tsne_gradient.cc",
        "native/signals.cc",
        "native/subnormals.cc",
        "native/buffer_pool.cc",
        "native/layout.cc"
      ]
    },
    {
      "target_name": "al_native",
      "dependencies": ["al_kernels"],
      "sources": ["native/addon.cc"]
    },
    {
      "target_name": "al_bench",
      "dependencies": ["al_kernels"],
      "sources": ["native/bench_addon.cc", "native/bench_direct.cc"]
    }
  ]
}
