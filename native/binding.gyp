# Built by native/build.mjs (npm run build:native): lux_native links the librdkafka node-rdkafka built and loaded;
# lux_json (the decode worker's record serializer), lux_kpi (its KPI batch partials) and lux_thread (thread names) link
# nothing but Node.
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
    },
    {
      "target_name": "lux_json",
      "sources": ["record_json.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-override-init"]
    },
    {
      "target_name": "lux_kpi",
      "sources": ["kpi_partials.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    },
    {
      "target_name": "lux_thread",
      "sources": ["thread_name.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
