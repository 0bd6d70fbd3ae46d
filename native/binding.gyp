# Built by native/build.mjs (npm run build:native): links the librdkafka node-rdkafka built and loaded.
{
  "variables": {
    "rdkafka_dir": "<!(node -p \"require('path').dirname(require.resolve('node-rdkafka/package.json'))\")"
  },
  "targets": [
    {
      "target_name": "lux_native",
      "sources": ["lux_native.c"],
      "include_dirs": ["<(rdkafka_dir)/deps/librdkafka/src"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-ignored-qualifiers", "-D_GNU_SOURCE"],
      "libraries": [
        "-L<(rdkafka_dir)/build/deps",
        "-l:librdkafka.so.1",
        "-Wl,-rpath,<(rdkafka_dir)/build/deps"
      ]
    }
  ]
}
