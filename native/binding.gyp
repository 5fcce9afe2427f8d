{
  # Builds the lbt addon against Debian's libtorch (default) or any libtorch in the
  # pytorch.org layout given by LIBTORCH (or LIBTORCH_INCLUDE / LIBTORCH_LIB).
  # A CUDA libtorch is detected by lib/libtorch_cuda.so and linked with --no-as-needed
  # so that its kernels register.
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "libtorch_include%": "<!(node -p \"process.env.LIBTORCH_INCLUDE || (process.env.LIBTORCH ? process.env.LIBTORCH + '/include' : '')\")",
    "libtorch_lib%": "<!(node -p \"process.env.LIBTORCH_LIB || (process.env.LIBTORCH ? process.env.LIBTORCH + '/lib' : '')\")",
    "cxx11_abi%": "<!(node -p \"process.env.LIBTORCH_CXX11_ABI || '1'\")",
    "has_cuda%": "<!(node -e \"const l=process.env.LIBTORCH_LIB||(process.env.LIBTORCH?process.env.LIBTORCH+'/lib':'');console.log(l&&require('fs').existsSync(l+'/libtorch_cuda.so')?1:0)\")"
  },
  "targets": [
    {
      "target_name": "lbt_torch",
      "sources": ["src/tensor.cc", "src/ops.cc", "src/runtime.cc", "src/allocator.cc", "src/module.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=<(cxx11_abi)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "conditions": [
        ["libtorch_include==''", {
          "include_dirs": ["/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
          "include_dirs": ["<(libtorch_include)", "<(libtorch_include)/torch/csrc/api/include"],
          "libraries": [
            "-L<(libtorch_lib)", "-Wl,-rpath,<(libtorch_lib)", "-Wl,--no-as-needed",
            "-ltorch", "-ltorch_cpu", "-lc10", "-Wl,--as-needed"
          ]
        }],
        ["has_cuda==1", {
          "defines": ["LBT_WITH_CUDA=1"],
          "libraries": ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
        }]
      ]
    }
  ]
}
