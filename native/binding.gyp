{
  # Builds the lbt addon against Debian's libtorch-dev (default) or the libtorch that LIBTORCH names:
  # a pytorch.org download (include/, lib/), the one inside a Python PyTorch install
  # (site-packages/torch, or LIBTORCH=python), or LIBTORCH_INCLUDE + LIBTORCH_LIB.
  # locate-libtorch.mjs finds it and says how to compile and link (C++ ABI and standard, CUDA:
  # libtorch_cuda.so is linked with --no-as-needed so that its CUDA kernels register).
  "targets": [
    {
      "target_name": "lbt_torch",
      "sources": [
        "src/tensor.cc", "src/ops.cc", "src/runtime.cc", "src/device.cc", "src/allocator.cc", "src/profile.cc", "src/module.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node locate-libtorch.mjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node locate-libtorch.mjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["<!@(node locate-libtorch.mjs cflags)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "libraries": ["<!@(node locate-libtorch.mjs libs)"]
    }
  ]
}
