/*
 * Names the calling thread (pthread_setname_np), so `top -H`, `ps -L` and /proc/<pid>/task/<tid>/comm tell the decode
 * workers, the KPI thread and the alarm thread apart from V8's and libuv's helpers (all "node" otherwise); `lux bench`
 * splits the daemon's CPU by these names. Node has no such call of its own.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <pthread.h>
#include <string.h>

/* setName(name): at most 15 bytes (the kernel's limit); returns whether the name was set. */
static napi_value set_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[16];
  size_t len = 0;
  bool ok = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len) == napi_ok) {
    ok = pthread_setname_np(pthread_self(), name) == 0;
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "setName", NAPI_AUTO_LENGTH, set_name, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setName", fn) != napi_ok) return NULL;
  return exports;
}
