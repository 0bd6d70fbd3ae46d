/* The N-API plumbing the plain addons (lux_json, lux_kpi) share: typed-array arguments, one error per call, exports. */
#ifndef LUX_NAPI_UTIL_H
#define LUX_NAPI_UTIL_H

#include <node_api.h>
#include <stdint.h>

/* Throws `message` with `code` unless an exception is already pending; returns NULL for the callback to return. */
static inline napi_value throw_once(napi_env env, const char *code, const char *message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, message);
  return NULL;
}

/* The data pointer and byte length of a typed array of type `want` (over an ArrayBuffer or a SharedArrayBuffer). */
static inline int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *bytes) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok || type != want) return 0;
  *bytes = length * (want == napi_uint32_array ? 4 : want == napi_float64_array ? 8 : 1);
  return 1;
}

/* An array of the `n` words, as an addon's `layout` (NULL on failure). */
static inline napi_value words_array(napi_env env, const uint32_t *words, uint32_t n) {
  napi_value arr;
  if (napi_create_array_with_length(env, n, &arr) != napi_ok) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_create_uint32(env, words[i], &v) != napi_ok || napi_set_element(env, arr, i, v) != napi_ok) return NULL;
  }
  return arr;
}

typedef struct {
  const char *name;
  napi_callback cb;
} export_fn;

/* Sets the `n` functions and `layout` on `exports`; NULL on failure (the module then fails to load). */
static inline napi_value export_module(napi_env env, napi_value exports, const export_fn *fns, size_t n, napi_value layout) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  if (layout == NULL || napi_set_named_property(env, exports, "layout", layout) != napi_ok) return NULL;
  return exports;
}

#endif
