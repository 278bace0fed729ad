{
  "variables": {
    "libfabric_dir%": "<!(node -p \"process.env.LIBFABRIC_DIR || ''\")"
  },
  "targets": [
    {
      "target_name": "lightbeam_fabric",
      "sources": ["addon.cc", "endpoint.cc", "memory.cc", "progress.cc", "reaper.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall"],
      "conditions": [
        ["libfabric_dir!=''", {
          "include_dirs": ["<(libfabric_dir)/include"],
          "libraries": ["-L<(libfabric_dir)/lib", "-L<(libfabric_dir)/lib64", "-Wl,-rpath,<(libfabric_dir)/lib", "-Wl,-rpath,<(libfabric_dir)/lib64", "-lfabric"]
        }, {
          "libraries": ["-lfabric"]
        }]
      ]
    }
  ]
}
