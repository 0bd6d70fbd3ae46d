/*
 * LUX's native batches: a pass of records goes to librdkafka in one call, and a read of many messages comes back as one
 * buffer, instead of one JS↔native crossing (and, reading, a JS object and two Buffers built in C++) per message.
 *
 * node-rdkafka makes every produce() a crossing that converts the topic name, builds a header list, looks the topic
 * up and copies the payload (about 9 µs a record measured with its consume, 12.3 µs with the JS wrapper). This addon
 * takes a pass as one array of value and key ranges over buffers the caller already holds (the workers' shared output
 * memory) and enqueues them with librdkafka's C API on the producer node-rdkafka created and owns.
 *
 * Finding that producer: this file is also a librdkafka plugin. The sink configures its producer with
 * plugin.library.paths = this file; librdkafka loads it (the same image node already loaded, so the statics below are
 * shared) and calls conf_init, which registers an on_new interceptor; on_new records each client handle under its
 * rd_kafka_name(), which node-rdkafka reports as `producer.name`; on_destroy forgets it. Nothing here relies on
 * node-rdkafka's internals, only on librdkafka's public plugin and interceptor API.
 */
#include <node_api.h>
#include <rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LUX_EXPORT __attribute__((visibility("default")))
#define IC_NAME "lux-native"
#define NULL_KEY 0xffffffffu

/* ---- the registry of client handles, filled by the interceptors ---- */

typedef struct handle {
  rd_kafka_t *rk;
  /* batch consumes running on a pool thread with this handle: its destruction waits for them */
  int inflight;
  struct handle *next;
} handle_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t registry_idle = PTHREAD_COND_INITIALIZER;
static handle_t *registry = NULL;

static rd_kafka_resp_err_t on_destroy(rd_kafka_t *rk, void *ic_opaque) {
  (void)ic_opaque;
  pthread_mutex_lock(&registry_lock);
  for (handle_t **p = &registry; *p; p = &(*p)->next) {
    if ((*p)->rk == rk) {
      handle_t *gone = *p;
      while (gone->inflight > 0) pthread_cond_wait(&registry_idle, &registry_lock);
      *p = gone->next;
      free(gone);
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *ic_opaque, char *errstr,
                                  size_t errstr_size) {
  (void)conf;
  (void)ic_opaque;
  handle_t *h = malloc(sizeof(*h));
  if (!h) {
    snprintf(errstr, errstr_size, "lux-native: out of memory");
    return RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
  }
  h->rk = rk;
  h->inflight = 0;
  pthread_mutex_lock(&registry_lock);
  h->next = registry;
  registry = h;
  pthread_mutex_unlock(&registry_lock);
  return rd_kafka_interceptor_add_on_destroy(rk, IC_NAME, on_destroy, NULL);
}

/* librdkafka's plugin entry point: called for every configuration that names this file in plugin.library.paths. */
LUX_EXPORT rd_kafka_resp_err_t conf_init(rd_kafka_conf_t *conf, void **plug_opaquep, char *errstr, size_t errstr_size) {
  (void)plug_opaquep;
  (void)errstr;
  (void)errstr_size;
  rd_kafka_resp_err_t err = rd_kafka_conf_interceptor_add_on_new(conf, IC_NAME, on_new, NULL);
  /* The same configuration given the plugin twice already has the interceptor. */
  return err == RD_KAFKA_RESP_ERR__CONFLICT ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
}

/* The handle named `name`, held against destruction until release_handle (NULL: none of that name). */
static rd_kafka_t *acquire_handle(const char *name) {
  rd_kafka_t *found = NULL;
  pthread_mutex_lock(&registry_lock);
  for (handle_t *h = registry; h; h = h->next) {
    if (strcmp(rd_kafka_name(h->rk), name) == 0) {
      h->inflight++;
      found = h->rk;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return found;
}

static void release_handle(rd_kafka_t *rk) {
  pthread_mutex_lock(&registry_lock);
  for (handle_t *h = registry; h; h = h->next) {
    if (h->rk == rk) {
      h->inflight--;
      break;
    }
  }
  pthread_cond_broadcast(&registry_idle);
  pthread_mutex_unlock(&registry_lock);
}

static rd_kafka_t *find_handle(const char *name) {
  rd_kafka_t *found = NULL;
  pthread_mutex_lock(&registry_lock);
  for (handle_t *h = registry; h; h = h->next) {
    if (strcmp(rd_kafka_name(h->rk), name) == 0) {
      found = h->rk;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return found;
}

/* ---- the JS side ---- */

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return throw_plain(env, "lux-native: " #call " failed");                                   \
  } while (0)

static napi_value throw_plain(napi_env env, const char *message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* A librdkafka error as node-rdkafka reports one: message, numeric code, and the verdict flags LUX decides on. */
static napi_value throw_kafka(napi_env env, rd_kafka_t *rk, rd_kafka_resp_err_t err, uint32_t produced) {
  char text[512];
  char fatal_reason[256] = "";
  bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
  if (fatal) rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
  const char *hint = err == RD_KAFKA_RESP_ERR__STATE ? " (a transactional producer produces only inside a transaction)" : "";
  snprintf(text, sizeof(text), "%s%s%s%s", rd_kafka_err2str(err), fatal ? ": " : "", fatal_reason, hint);
  napi_value msg, error, code, flag, count;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  napi_create_int32(env, (int32_t)err, &code);
  napi_set_named_property(env, error, "code", code);
  napi_create_uint32(env, produced, &count);
  napi_set_named_property(env, error, "produced", count);
  napi_get_boolean(env, fatal, &flag);
  napi_set_named_property(env, error, "isFatal", flag);
  napi_get_boolean(env, false, &flag);
  napi_set_named_property(env, error, "isRetriable", flag);
  napi_set_named_property(env, error, "isTxnRequiresAbort", flag);
  napi_throw(env, error);
  return NULL;
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t count, offset;
  napi_value ab;
  void *p;
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, v, &type, &count, &p, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return 0;
  *data = p;
  *length = count;
  return 1;
}

/*
 * produce(client, topic, values, keys, spec, from, to) → how many of records [from, to) were enqueued.
 *
 *   client  rd_kafka_name() of a producer created with this plugin (node-rdkafka's `producer.name`)
 *   topic   the topic; the partition is the configured partitioner's choice by key
 *   values  a Uint8Array the value ranges index (it may be a view over shared memory: librdkafka copies)
 *   keys    a Uint8Array the key ranges index
 *   spec    a Uint32Array of 4 words per record: value start, value end, key start, key end (key start
 *           0xffffffff: no key)
 *
 * Records are enqueued in order; the first one librdkafka refuses because its queue is full stops the call, which
 * returns the count so far (the caller lets librdkafka drain and calls again from there). Any other refusal throws an
 * error carrying librdkafka's code and `produced`, the count enqueued before it.
 */
static napi_value produce(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_plain(env, "lux-native produce: expected (client, topic, values, keys, spec, from, to)");

  char client[256], topic[512];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], client, sizeof(client), &len) != napi_ok)
    return throw_plain(env, "lux-native produce: client must be a string");
  if (napi_get_value_string_utf8(env, argv[1], topic, sizeof(topic), &len) != napi_ok || len == 0)
    return throw_plain(env, "lux-native produce: topic must be a non-empty string");

  uint8_t *values, *keys;
  size_t values_len, keys_len;
  if (!bytes_of(env, argv[2], &values, &values_len)) return throw_plain(env, "lux-native produce: values must be a Uint8Array");
  if (!bytes_of(env, argv[3], &keys, &keys_len)) return throw_plain(env, "lux-native produce: keys must be a Uint8Array");

  napi_typedarray_type type;
  size_t spec_count, offset;
  napi_value ab;
  void *spec_p;
  bool is_typed = false;
  if (napi_is_typedarray(env, argv[4], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[4], &type, &spec_count, &spec_p, &ab, &offset) != napi_ok ||
      type != napi_uint32_array)
    return throw_plain(env, "lux-native produce: spec must be a Uint32Array");
  const uint32_t *spec = spec_p;

  uint32_t from, to;
  if (napi_get_value_uint32(env, argv[5], &from) != napi_ok || napi_get_value_uint32(env, argv[6], &to) != napi_ok)
    return throw_plain(env, "lux-native produce: from and to must be numbers");
  if (from > to || (size_t)to * 4 > spec_count) return throw_plain(env, "lux-native produce: [from, to) is outside spec");

  rd_kafka_t *rk = find_handle(client);
  if (!rk) {
    char text[400];
    snprintf(text, sizeof(text), "lux-native produce: no producer named '%s' was created with the plugin", client);
    return throw_plain(env, text);
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  if (!rkt) return throw_kafka(env, rk, rd_kafka_last_error(), 0);

  uint32_t i = from;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (; i < to; i++) {
    const uint32_t *s = spec + (size_t)i * 4;
    if (s[0] > s[1] || s[1] > values_len) {
      rd_kafka_topic_destroy(rkt);
      return throw_plain(env, "lux-native produce: a value range is outside values");
    }
    const void *key = NULL;
    size_t key_len = 0;
    if (s[2] != NULL_KEY) {
      if (s[2] > s[3] || s[3] > keys_len) {
        rd_kafka_topic_destroy(rkt);
        return throw_plain(env, "lux-native produce: a key range is outside keys");
      }
      key = keys + s[2];
      key_len = s[3] - s[2];
    }
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, values + s[0], s[1] - s[0], key, key_len,
                         NULL) == -1) {
      err = rd_kafka_last_error();
      break;
    }
  }
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return throw_kafka(env, rk, err, i - from);

  napi_value result;
  CHECK(napi_create_uint32(env, i - from, &result));
  return result;
}


/* ---- batch consume ---- */

typedef struct {
  napi_async_work work;
  napi_ref callback;
  char client[256];
  uint32_t max;
  int timeout_ms;
  /* the wait for each message after the first: timeout_ms for node-rdkafka's rule, 0 to take only what is there */
  int rest_ms;
  rd_kafka_message_t **msgs;
  uint32_t count;
  /* the error that ended the read when it read nothing (node-rdkafka's rule: with messages, they are returned) */
  rd_kafka_resp_err_t err;
  char detail[512];
  int unknown_client;
} consume_job_t;

/*
 * On a pool thread: reads up to `max` messages, the first within `timeout_ms` and each further one within `rest_ms`
 * (node-rdkafka's consume(n) rule when both are equal; with rest_ms 0 a batch is what has been fetched, handed over at
 * once rather than after a last wait for a message that is not there).
 */
static void consume_execute(napi_env env, void *data) {
  (void)env;
  consume_job_t *job = data;
  rd_kafka_t *rk = acquire_handle(job->client);
  if (!rk) {
    job->unknown_client = 1;
    return;
  }
  int timeout = job->timeout_ms;
  while (job->count < job->max) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout);
    if (!m) break; /* nothing within the timeout */
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      /* the end of a partition: what is ready elsewhere is still taken, without waiting for more */
      rd_kafka_message_destroy(m);
      if (job->count > 0 && timeout > 1) timeout = 1;
      continue;
    }
    if (m->err) {
      if (job->count == 0) {
        job->err = m->err;
        snprintf(job->detail, sizeof(job->detail), "%s", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      break;
    }
    job->msgs[job->count++] = m;
    timeout = job->rest_ms;
  }
  release_handle(rk);
}

/*
 * On the loop: one ArrayBuffer holds every value and key back to back; a Float64Array holds 8 numbers a message
 * (partition, offset, timestamp, value start, value length, key start, key length, topic index; a length of -1: null);
 * topics names them. The caller turns them into messages without another copy.
 */
static void consume_complete(napi_env env, napi_status status, void *data) {
  consume_job_t *job = data;
  napi_value callback, global, argv[4], undefined;
  napi_get_reference_value(env, job->callback, &callback);
  napi_get_global(env, &global);
  napi_get_undefined(env, &undefined);
  int argc = 1;
  if (status != napi_ok || job->unknown_client) {
    char text[400];
    snprintf(text, sizeof(text), "lux-native consume: no consumer named '%s' was created with the plugin", job->client);
    napi_value msg;
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[0]);
  } else if (job->count == 0 && job->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    napi_value msg, code, flag, detail;
    napi_create_string_utf8(env, rd_kafka_err2str(job->err), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[0]);
    napi_create_int32(env, (int32_t)job->err, &code);
    napi_set_named_property(env, argv[0], "code", code);
    napi_create_string_utf8(env, job->detail, NAPI_AUTO_LENGTH, &detail);
    napi_set_named_property(env, argv[0], "detail", detail);
    napi_get_boolean(env, job->err == RD_KAFKA_RESP_ERR__FATAL, &flag);
    napi_set_named_property(env, argv[0], "isFatal", flag);
  } else {
    size_t total = 0;
    for (uint32_t i = 0; i < job->count; i++) total += job->msgs[i]->len + job->msgs[i]->key_len;
    void *bytes = NULL, *meta_bytes = NULL;
    napi_value meta_ab, topics;
    napi_create_arraybuffer(env, total, &bytes, &argv[1]);
    napi_create_arraybuffer(env, (size_t)job->count * 8 * sizeof(double), &meta_bytes, &meta_ab);
    napi_create_typedarray(env, napi_float64_array, (size_t)job->count * 8, meta_ab, 0, &argv[2]);
    napi_create_array(env, &topics);
    rd_kafka_topic_t *seen[16];
    uint32_t nseen = 0;
    double *meta = meta_bytes;
    size_t at = 0;
    for (uint32_t i = 0; i < job->count; i++) {
      rd_kafka_message_t *m = job->msgs[i];
      uint32_t t = 0;
      while (t < nseen && seen[t] != m->rkt) t++;
      if (t == nseen) {
        napi_value name;
        napi_create_string_utf8(env, rd_kafka_topic_name(m->rkt), NAPI_AUTO_LENGTH, &name);
        napi_set_element(env, topics, t, name);
        if (nseen < 16) seen[nseen++] = m->rkt; /* more than 16 topics in one read: names repeat, still right */
      }
      double *w = meta + (size_t)i * 8;
      w[0] = m->partition;
      w[1] = (double)m->offset;
      w[2] = (double)rd_kafka_message_timestamp(m, NULL);
      w[3] = (double)at;
      w[4] = m->payload ? (double)m->len : -1;
      if (m->payload) memcpy((uint8_t *)bytes + at, m->payload, m->len), at += m->len;
      w[5] = (double)at;
      w[6] = m->key ? (double)m->key_len : -1;
      if (m->key) memcpy((uint8_t *)bytes + at, m->key, m->key_len), at += m->key_len;
      w[7] = t;
      rd_kafka_message_destroy(m);
    }
    job->count = 0;
    argv[3] = topics;
    napi_get_null(env, &argv[0]);
    argc = 4;
  }
  for (uint32_t i = 0; i < job->count; i++) rd_kafka_message_destroy(job->msgs[i]);
  napi_call_function(env, global, callback, (size_t)argc, argv, NULL);
  napi_delete_reference(env, job->callback);
  napi_delete_async_work(env, job->work);
  free(job->msgs);
  free(job);
}

/*
 * consume(client, max, timeoutMs, restMs, callback(err, bytes, meta, topics)): reads up to `max` messages on a pool
 * thread from the consumer named `client` (rd_kafka_name(), node-rdkafka's `consumer.name`), the first within
 * `timeoutMs`, each further one within `restMs` — node-rdkafka's consume(n) (restMs = timeoutMs) without a JS object
 * and two Buffers built in C++ for each message.
 */
static napi_value consume(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_plain(env, "lux-native consume: expected (client, max, timeoutMs, restMs, callback)");
  napi_valuetype type;
  if (napi_typeof(env, argv[4], &type) != napi_ok || type != napi_function)
    return throw_plain(env, "lux-native consume: callback must be a function");
  consume_job_t *job = calloc(1, sizeof(*job));
  if (!job) return throw_plain(env, "lux-native consume: out of memory");
  size_t len;
  int32_t timeout, rest;
  if (napi_get_value_string_utf8(env, argv[0], job->client, sizeof(job->client), &len) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &job->max) != napi_ok || job->max == 0 ||
      napi_get_value_int32(env, argv[2], &timeout) != napi_ok || timeout < 0 ||
      napi_get_value_int32(env, argv[3], &rest) != napi_ok || rest < 0) {
    free(job);
    return throw_plain(env, "lux-native consume: client must be a string, max a positive count, timeoutMs and restMs >= 0");
  }
  job->timeout_ms = timeout;
  job->rest_ms = rest;
  job->msgs = malloc(sizeof(*job->msgs) * job->max);
  if (!job->msgs) {
    free(job);
    return throw_plain(env, "lux-native consume: out of memory");
  }
  napi_value name;
  napi_create_string_utf8(env, "lux-native-consume", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[4], 1, &job->callback) != napi_ok ||
      napi_create_async_work(env, NULL, name, consume_execute, consume_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job->msgs);
    free(job);
    return throw_plain(env, "lux-native consume: cannot queue the read");
  }
  return NULL;
}

/* registered(client) → whether a producer of that name was created with the plugin and is still alive. */
static napi_value registered(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char client[256];
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], client, sizeof(client), &len) != napi_ok)
    return throw_plain(env, "lux-native registered: client must be a string");
  napi_value result;
  CHECK(napi_get_boolean(env, find_handle(client) != NULL, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "produce", NAPI_AUTO_LENGTH, produce, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "produce", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "consume", NAPI_AUTO_LENGTH, consume, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "consume", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "registered", NAPI_AUTO_LENGTH, registered, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "registered", fn) != napi_ok) return NULL;
  napi_value version;
  if (napi_create_string_utf8(env, rd_kafka_version_str(), NAPI_AUTO_LENGTH, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "librdkafkaVersion", version) != napi_ok) return NULL;
  return exports;
}
