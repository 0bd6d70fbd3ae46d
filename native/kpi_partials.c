/*
 * The decode worker's KPI batch partials in C: a slot's decoded records folded into aggregates per (window,
 * dimension, key) and encoded as one chunk per shard — the exact bytes BatchPartials.finish (src/kpis/batch-partials.ts)
 * writes for the same records.
 *
 * Why: in the daemon the fold and the encoding took ≈ 0.9 µs of a record's ≈ 7–8 µs of CPU, most of it typed-array
 * stores and doubles turned into varints one byte at a time.
 *
 * What stays in JavaScript: resolving an equipment's region and vendor (EquipmentKeys: overlay first, tombstones,
 * vendor names, the interned ids and their shard hashes). This file keeps a cache equipment_id → (region id, vendor
 * id) of its own; a record whose equipment is not in it stops the fold before the record (status MISS, its position
 * in `io`), JavaScript resolves that equipment, hands over the result (`define`) and any string it interned for it
 * (`string`: UTF-8 bytes and the two shard hashes), and the fold resumes at the same record — once per equipment per
 * reference version. A new version empties the cache (`forget`).
 *
 * Nothing is decided here that the JavaScript side does not decide: entries are numbered in the order the records
 * create them (cell, equipment, region, vendor), grouped by shard with the same counting sort, and every number goes
 * through the same varint arithmetic on doubles as leb128.ts; the tests hold both to the same bytes. The record and
 * message layout and the constants of measures.ts, names.ts and partials-codec.ts are compiled in and exported as
 * `layout`, which the loader (src/kpis/native-batch-partials.ts) compares with this build's before it uses this file.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "napi_util.h"

/* ---- measures.ts: record types and an aggregate's doubles ---- */
#define ATTACH 1
#define SESSION_START 3
#define HANDOVER 5
#define RADIO_LINK_FAILURE 6
#define CALL_DROP 7
enum {
  M_RECORDS, M_FAILURES, M_ATTACH_ATTEMPTS, M_ATTACH_SUCCESSES, M_SESSION_ATTEMPTS, M_SESSION_SUCCESSES,
  M_HANDOVER_ATTEMPTS, M_HANDOVER_SUCCESSES, M_CALL_DROPS, M_RADIO_LINK_FAILURES, M_RSRP_COUNT, M_RSRP_SUM, M_RSRP_MIN,
  M_BYTES_UP, M_BYTES_DOWN, MEASURES
};

/* ---- names.ts: dimension codes ---- */
#define DIM_CELL 0
#define DIM_EQUIPMENT 1
#define DIM_REGION 2
#define DIM_VENDOR 3

/* ---- partials-codec.ts: the batch header and an entry's mask bits ---- */
#define BATCH_MAGIC 0x4c584b42u
#define PARTIALS_VERSION 1
#define SIMPLE_FIELDS 10
#define BIT_RSRP 10
#define BIT_BYTES_UP 11
#define BIT_BYTES_DOWN 12
#define BIT_LATENCY 13
/* window, dimension, key, mask and every field as a full varint (partials-codec.ts MAX_ENTRY_BYTES, with room to spare) */
#define MAX_ENTRY_BYTES (10 + 1 + 10 + 3 + (SIMPLE_FIELDS + 6) * 10)

/* ---- batch-partials.ts and equipment-keys.ts ---- */
#define MAX_PARTITION 0xffff
#define NO_KEY (-1)
#define INITIAL_ENTRIES 4096
#define INITIAL_LATENCIES 1024
#define INITIAL_BYTES (64 * 1024)
#define INITIAL_EQUIPMENT 4096

/* The `io` words of addSlot and addRecords: where to start, then where the fold stopped and why. */
enum { IO_FROM_MESSAGE, IO_FROM_RECORD, IO_AT_MESSAGE, IO_AT_RECORD, IO_EQUIPMENT, IO_PARTITION, IO_RECORDS, IO_WORDS };
/* What addSlot and addRecords return. */
enum { ST_DONE, ST_MISS, ST_PARTITION, ST_NO_MEMORY };

typedef struct {
  uint8_t *b;
  size_t pos, cap;
} bytes_t;

typedef struct {
  double window_ms;
  uint32_t shards;
  /* FNV-1a state after `cell:` and `equipment:` (shard.ts PREFIX_HASH) */
  uint32_t prefix_cell, prefix_equipment;
  int by_cell, by_equipment, by_region, by_vendor;

  /* entries: open addressing, index[s] = entry + 1 (0 empty); dense entry arrays of e_cap = capacity / 2 */
  uint32_t capacity, shift, count, e_cap;
  int32_t *index;
  double *e_window;
  uint8_t *e_dim;
  uint32_t *e_key, *e_slot, *e_lat;
  double *fields;

  /* setup latencies in record order: (entry, value) */
  uint32_t lat_used, lat_cap;
  uint32_t *lat_entry;
  uint16_t *lat_value;

  /* raw input partitions of the batch */
  uint32_t p_cap, touched_count;
  double *p_max;
  uint32_t *p_records;
  uint16_t *touched;
  double records;

  /* equipment_id → (region, vendor) interned ids, as EquipmentKeys resolved them; emptied per reference version */
  uint32_t eq_cap, eq_shift, eq_count;
  uint32_t *eq_id;
  uint8_t *eq_filled;
  int32_t *eq_region, *eq_vendor;

  /* interned strings, in EquipmentKeys' id order: UTF-8 bytes at [str_at[2i], str_at[2i + 1]) of str_bytes */
  uint32_t str_count, str_cap;
  uint32_t *str_at, *region_hash, *vendor_hash;
  bytes_t str_bytes;

  /* encoding scratch, kept across batches */
  bytes_t out, body;
  uint32_t scratch_cap, lat_sorted_cap, str_scratch_cap, stamp;
  uint32_t *order, *shard_of, *lat_start, *shard_start;
  uint16_t *lat_sorted;
  int32_t *str_local, *str_list;
  uint32_t *str_stamp;
} kpi_t;

/* ---- memory ---- */

/* Resizes *p to n elements of `size`, the new part zeroed; 0 when out of memory (*p unchanged). */
static int resize(void *p, size_t old_n, size_t n, size_t size) {
  void *q = realloc(*(void **)p, (n == 0 ? 1 : n) * size);
  if (q == NULL) return 0;
  if (n > old_n) memset((uint8_t *)q + old_n * size, 0, (n - old_n) * size);
  *(void **)p = q;
  return 1;
}

static int ensure(bytes_t *w, size_t n) {
  if (w->pos + n <= w->cap) return 1;
  size_t size = w->cap == 0 ? 1024 : w->cap * 2;
  while (size < w->pos + n) size *= 2;
  if (!resize(&w->b, w->cap, size, 1)) return 0;
  w->cap = size;
  return 1;
}

/* ---- varints: leb128.ts's arithmetic on doubles, byte for byte ---- */

static inline uint8_t *put_u64(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

/* ToUint8 of a double (the store into a Uint8Array): its integer part modulo 256, 0 for NaN and the infinities. */
static inline uint8_t to_uint8(double v) {
  if (!isfinite(v)) return 0;
  double t = fmod(trunc(v), 256.0);
  if (t < 0) t += 256.0;
  return (uint8_t)t;
}

/*
 * ByteWriter.uint / putUint of a double: a non-negative value is its integer part as LEB128 (the JavaScript loop
 * truncates on its first step); what it was never meant for (negative, NaN, +Infinity, ≥ 2^64) as the loop would.
 */
static inline uint8_t *put_uint(uint8_t *p, double v) {
  if (v >= 0 && v < 18446744073709551616.0) return put_u64(p, (uint64_t)v);
  if (!(v >= 0x80)) { /* negative or NaN: one byte, b[p] = v */
    *p++ = to_uint8(v);
    return p;
  }
  while (v >= 0x80) {
    double low = fmod(v, 128.0);
    *p++ = (uint8_t)(to_uint8(low) | 0x80);
    v = (v - low) / 128.0;
  }
  *p++ = to_uint8(v);
  return p;
}

static inline double zigzag(double v) {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/* ---- shard hashes (shard.ts): FNV-1a of `<dimension>:<id>` ---- */

#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static uint32_t fnv_text(uint32_t h, const char *s) {
  for (; *s; s++) h = (h ^ (uint8_t)*s) * FNV_PRIME;
  return h;
}

/* shard.ts fnvDecimal: the digits most significant first (taken off the end by constant divisions, then replayed). */
static inline uint32_t hash_of_id(uint32_t prefix, uint32_t n) {
  uint8_t digits[10];
  int count = 0;
  do {
    digits[count++] = (uint8_t)('0' + n % 10);
    n /= 10;
  } while (n != 0);
  uint32_t h = prefix;
  while (count > 0) h = (h ^ digits[--count]) * FNV_PRIME;
  return h;
}

/* ---- the entry table ---- */

static inline uint32_t entry_hash(const kpi_t *k, double window, uint32_t dim, uint32_t key) {
  uint64_t bits;
  memcpy(&bits, &window, 8);
  uint32_t w = (uint32_t)(bits ^ (bits >> 32));
  return ((key ^ (w * 0x85ebca6bu)) + dim) * 0x9e3779b1u >> k->shift;
}

static int allocate_entries(kpi_t *k, uint32_t capacity) {
  uint32_t n = capacity / 2;
  int32_t *index = calloc(capacity, sizeof(int32_t));
  if (index == NULL) return 0;
  if (!resize(&k->e_window, k->e_cap, n, sizeof(double)) || !resize(&k->e_dim, k->e_cap, n, 1) ||
      !resize(&k->e_key, k->e_cap, n, 4) || !resize(&k->e_slot, k->e_cap, n, 4) || !resize(&k->e_lat, k->e_cap, n, 4) ||
      !resize(&k->fields, (size_t)k->e_cap * MEASURES, (size_t)n * MEASURES, sizeof(double))) {
    free(index);
    return 0;
  }
  free(k->index);
  k->index = index;
  k->capacity = capacity;
  uint32_t log2 = 0;
  while ((1u << log2) < capacity) log2++;
  k->shift = 32 - log2;
  k->e_cap = n;
  return 1;
}

static int rehash(kpi_t *k, uint32_t capacity) {
  if (!allocate_entries(k, capacity)) return 0;
  uint32_t mask = capacity - 1;
  for (uint32_t e = 0; e < k->count; e++) {
    uint32_t s = entry_hash(k, k->e_window[e], k->e_dim[e], k->e_key[e]) & mask;
    while (k->index[s] != 0) s = (s + 1) & mask;
    k->index[s] = (int32_t)e + 1;
    k->e_slot[e] = s;
  }
  return 1;
}

/* The entry of (window, dim, key), created empty when new; -1 when out of memory. */
static inline int64_t entry(kpi_t *k, double window, uint32_t dim, uint32_t key) {
  for (;;) {
    uint32_t mask = k->capacity - 1;
    uint32_t s = entry_hash(k, window, dim, key) & mask;
    for (;;) {
      int32_t v = k->index[s];
      if (v == 0) break;
      uint32_t e = (uint32_t)v - 1;
      if (k->e_key[e] == key && k->e_dim[e] == dim && k->e_window[e] == window) return e;
      s = (s + 1) & mask;
    }
    if ((k->count + 1) * 2 > k->capacity) {
      if (!rehash(k, k->capacity * 2)) return -1;
      continue;
    }
    uint32_t e = k->count++;
    k->index[s] = (int32_t)e + 1;
    k->e_window[e] = window;
    k->e_dim[e] = (uint8_t)dim;
    k->e_key[e] = key;
    k->e_slot[e] = s;
    k->e_lat[e] = 0;
    double *f = k->fields + (size_t)e * MEASURES;
    memset(f, 0, MEASURES * sizeof(double));
    f[M_RSRP_MIN] = INFINITY;
    return e;
  }
}

/* measures.ts addRecord */
static inline void add_record(double *f, uint32_t type, uint32_t result, int has_rsrp, int32_t rsrp, uint32_t up, uint32_t down) {
  int success = result == 0;
  f[M_RECORDS]++;
  if (!success) f[M_FAILURES]++;
  switch (type) {
    case ATTACH:
      f[M_ATTACH_ATTEMPTS]++;
      if (success) f[M_ATTACH_SUCCESSES]++;
      break;
    case SESSION_START:
      f[M_SESSION_ATTEMPTS]++;
      if (success) f[M_SESSION_SUCCESSES]++;
      break;
    case HANDOVER:
      f[M_HANDOVER_ATTEMPTS]++;
      if (success) f[M_HANDOVER_SUCCESSES]++;
      break;
    case CALL_DROP:
      f[M_CALL_DROPS]++;
      break;
    case RADIO_LINK_FAILURE:
      f[M_RADIO_LINK_FAILURES]++;
      break;
  }
  if (has_rsrp) {
    f[M_RSRP_COUNT]++;
    f[M_RSRP_SUM] += rsrp;
    if (rsrp < f[M_RSRP_MIN]) f[M_RSRP_MIN] = rsrp;
  }
  f[M_BYTES_UP] += up;
  f[M_BYTES_DOWN] += down;
}

static inline int latency(kpi_t *k, uint32_t e, uint32_t value) {
  if (k->lat_used == k->lat_cap) {
    uint32_t n = k->lat_cap * 2;
    if (!resize(&k->lat_entry, k->lat_cap, n, 4) || !resize(&k->lat_value, k->lat_cap, n, 2)) return 0;
    k->lat_cap = n;
  }
  k->lat_entry[k->lat_used] = e;
  k->lat_value[k->lat_used++] = (uint16_t)value;
  k->e_lat[e]++;
  return 1;
}

/* One record into one dimension's entry; 0 when out of memory. */
static inline int fold(kpi_t *k, double window, uint32_t dim, uint32_t key, uint32_t type, uint32_t result, int has_rsrp,
                       int32_t rsrp, uint32_t up, uint32_t down, int32_t lat) {
  int64_t e = entry(k, window, dim, key);
  if (e < 0) return 0;
  add_record(k->fields + (size_t)e * MEASURES, type, result, has_rsrp, rsrp, up, down);
  return lat < 0 || latency(k, (uint32_t)e, (uint32_t)lat);
}

/* ---- the equipment cache ---- */

static int allocate_equipment(kpi_t *k, uint32_t capacity) {
  uint32_t *id = calloc(capacity, 4);
  uint8_t *filled = calloc(capacity, 1);
  int32_t *region = calloc(capacity, 4), *vendor = calloc(capacity, 4);
  if (id == NULL || filled == NULL || region == NULL || vendor == NULL) {
    free(id), free(filled), free(region), free(vendor);
    return 0;
  }
  uint32_t old = k->eq_cap;
  uint32_t *old_id = k->eq_id;
  uint8_t *old_filled = k->eq_filled;
  int32_t *old_region = k->eq_region, *old_vendor = k->eq_vendor;
  uint32_t log2 = 0;
  while ((1u << log2) < capacity) log2++;
  k->eq_cap = capacity;
  k->eq_shift = 32 - log2;
  k->eq_id = id, k->eq_filled = filled, k->eq_region = region, k->eq_vendor = vendor;
  for (uint32_t i = 0; i < old; i++) {
    if (!old_filled[i]) continue;
    uint32_t s = (old_id[i] * 0x9e3779b1u) >> k->eq_shift;
    while (filled[s]) s = (s + 1) & (capacity - 1);
    filled[s] = 1, id[s] = old_id[i], region[s] = old_region[i], vendor[s] = old_vendor[i];
  }
  free(old_id), free(old_filled), free(old_region), free(old_vendor);
  return 1;
}

/* The cache slot of an equipment, or -1 when it is not cached. */
static inline int64_t equipment_slot(const kpi_t *k, uint32_t id) {
  uint32_t mask = k->eq_cap - 1;
  uint32_t s = (id * 0x9e3779b1u) >> k->eq_shift;
  while (k->eq_filled[s]) {
    if (k->eq_id[s] == id) return s;
    s = (s + 1) & mask;
  }
  return -1;
}

/* ---- the fold ---- */

static int grow_partitions(kpi_t *k, uint32_t partition) {
  uint32_t n = partition + 1 > k->p_cap * 2 ? partition + 1 : k->p_cap * 2;
  if (!resize(&k->p_max, k->p_cap, n, sizeof(double)) || !resize(&k->p_records, k->p_cap, n, 4) || !resize(&k->touched, k->p_cap, n, 2)) return 0;
  for (uint32_t i = k->p_cap; i < n; i++) k->p_max[i] = -INFINITY;
  k->p_cap = n;
  return 1;
}

/*
 * BatchPartials.addRecords from record `from` on: folds records [from, count) at word `rec` of `mem`, read from raw
 * `partition`. Stops before a record whose equipment is not cached (ST_MISS, io[AT_RECORD], io[EQUIPMENT]).
 */
static int add_records(kpi_t *k, const uint32_t *mem, size_t rec, uint32_t from, uint32_t count, double partition_d, uint32_t *io) {
  if (count == 0) return ST_DONE;
  if (!(partition_d >= 0 && partition_d <= MAX_PARTITION)) {
    io[IO_PARTITION] = partition_d >= 0 && partition_d < 4294967296.0 ? (uint32_t)partition_d : 0xffffffffu;
    return ST_PARTITION;
  }
  uint32_t partition = (uint32_t)partition_d;
  const int by_keys = k->by_region || k->by_vendor;
  if (from == 0) {
    /* a first record that misses returns before the partition counts as touched (the fold resumes at it) */
    if (by_keys && equipment_slot(k, mem[rec + R_EQUIPMENT]) < 0) {
      io[IO_AT_RECORD] = 0;
      io[IO_EQUIPMENT] = mem[rec + R_EQUIPMENT];
      return ST_MISS;
    }
    if (partition >= k->p_cap && !grow_partitions(k, partition)) return ST_NO_MEMORY;
    if (k->p_max[partition] == -INFINITY && k->p_records[partition] == 0) k->touched[k->touched_count++] = (uint16_t)partition;
  }
  const double window_ms = k->window_ms;
  double max_time = k->p_max[partition];
  for (uint32_t i = from; i < count; i++) {
    const uint32_t *w = mem + rec + (size_t)i * REC_WORDS;
    int32_t region = NO_KEY, vendor = NO_KEY;
    uint32_t equipment = w[R_EQUIPMENT];
    if (by_keys) {
      int64_t s = equipment_slot(k, equipment);
      if (s < 0) {
        k->p_max[partition] = max_time;
        io[IO_AT_RECORD] = i;
        io[IO_EQUIPMENT] = equipment;
        return ST_MISS;
      }
      region = k->eq_region[s];
      vendor = k->eq_vendor[s];
    }
    double time;
    memcpy(&time, w + R_TIME_F64, 8);
    if (time > max_time) max_time = time;
    uint32_t codes = w[R_CODES];
    uint32_t type = codes & 0xff, result = (codes >> 8) & 0xff, flags = codes >> 24;
    int has_rsrp = (flags & F_RSRP) != 0;
    int32_t rsrp = (int32_t)w[R_RSRP];
    uint32_t up = w[R_BYTES_UP], down = w[R_BYTES_DOWN];
    int32_t lat = (flags & F_SETUP_LATENCY) != 0 && type == SESSION_START ? (int32_t)(w[R_CAUSE_SETUP] >> 16) : -1;
    double window = floor(time / window_ms);
    int ok = 1;
    if (k->by_cell) ok &= fold(k, window, DIM_CELL, w[R_CELL], type, result, has_rsrp, rsrp, up, down, lat);
    if (k->by_equipment) ok &= fold(k, window, DIM_EQUIPMENT, equipment, type, result, has_rsrp, rsrp, up, down, lat);
    if (k->by_region && region != NO_KEY) ok &= fold(k, window, DIM_REGION, (uint32_t)region, type, result, has_rsrp, rsrp, up, down, lat);
    if (k->by_vendor && vendor != NO_KEY) ok &= fold(k, window, DIM_VENDOR, (uint32_t)vendor, type, result, has_rsrp, rsrp, up, down, lat);
    if (!ok) return ST_NO_MEMORY;
  }
  k->p_max[partition] = max_time;
  k->p_records[partition] += count;
  k->records += count;
  return ST_DONE;
}

/* ---- encoding ---- */

static inline uint32_t shard_hash(const kpi_t *k, uint32_t dim, uint32_t key) {
  switch (dim) {
    case DIM_REGION: return k->region_hash[key];
    case DIM_VENDOR: return k->vendor_hash[key];
    case DIM_CELL: return hash_of_id(k->prefix_cell, key);
    default: return hash_of_id(k->prefix_equipment, key);
  }
}

/* partials-codec.ts writeEntry */
static int write_entry(bytes_t *w, double window_delta, uint32_t dim, uint32_t key, const double *f, const uint16_t *lat, uint32_t from, uint32_t to) {
  if (!ensure(w, MAX_ENTRY_BYTES + 3 * (size_t)(to - from))) return 0;
  uint8_t *p = put_uint(w->b + w->pos, zigzag(window_delta));
  *p++ = (uint8_t)dim;
  p = put_u64(p, key);
  uint32_t mask = 0;
  for (int i = 0; i < SIMPLE_FIELDS; i++) if (f[i] != 0) mask |= 1u << i;
  int rsrp = f[M_RSRP_COUNT] != 0;
  double up = f[M_BYTES_UP], down = f[M_BYTES_DOWN];
  if (rsrp) mask |= 1u << BIT_RSRP;
  if (up != 0) mask |= 1u << BIT_BYTES_UP;
  if (down != 0) mask |= 1u << BIT_BYTES_DOWN;
  if (to > from) mask |= 1u << BIT_LATENCY;
  p = put_u64(p, mask);
  for (int i = 0; i < SIMPLE_FIELDS; i++) if (f[i] != 0) p = put_uint(p, f[i]);
  if (rsrp) {
    p = put_uint(p, f[M_RSRP_COUNT]);
    p = put_uint(p, zigzag(f[M_RSRP_SUM]));
    p = put_uint(p, zigzag(f[M_RSRP_MIN]));
  }
  if (up != 0) p = put_uint(p, up);
  if (down != 0) p = put_uint(p, down);
  if (to > from) {
    p = put_u64(p, to - from);
    for (uint32_t i = from; i < to; i++) p = put_u64(p, lat[i]);
  }
  w->pos = (size_t)(p - w->b);
  return 1;
}

/* How many entries ahead write_chunk prefetches an entry's counters. */
#define PREFETCH 4

/* The body of one shard's chunk, from the entries order[from, to), into k->body (BatchPartials.writeChunk). */
static int write_chunk(kpi_t *k, uint32_t from, uint32_t to) {
  bytes_t *body = &k->body;
  body->pos = 0;
  if (k->str_count > k->str_scratch_cap) {
    uint32_t n = k->str_count > k->str_scratch_cap * 2 ? k->str_count : k->str_scratch_cap * 2;
    if (!resize(&k->str_local, k->str_scratch_cap, n, 4) || !resize(&k->str_stamp, k->str_scratch_cap, n, 4) ||
        !resize(&k->str_list, k->str_scratch_cap, n, 4)) return 0;
    k->str_scratch_cap = n;
  }
  uint32_t stamp = ++k->stamp;
  uint32_t strings = 0;
  double base = INFINITY;
  for (uint32_t i = from; i < to; i++) {
    uint32_t e = k->order[i];
    if (k->e_window[e] < base) base = k->e_window[e];
    uint32_t dim = k->e_dim[e];
    if (dim != DIM_REGION && dim != DIM_VENDOR) continue;
    uint32_t id = k->e_key[e];
    if (k->str_stamp[id] != stamp) {
      k->str_stamp[id] = stamp;
      k->str_local[id] = (int32_t)strings;
      k->str_list[strings++] = (int32_t)id;
    }
  }
  if (!ensure(body, 2 * 10)) return 0;
  uint8_t *p = put_uint(body->b + body->pos, base);
  p = put_u64(p, strings);
  body->pos = (size_t)(p - body->b);
  for (uint32_t i = 0; i < strings; i++) {
    uint32_t id = (uint32_t)k->str_list[i];
    uint32_t s = k->str_at[2 * id], len = k->str_at[2 * id + 1] - s;
    if (!ensure(body, 10 + (size_t)len)) return 0;
    p = put_u64(body->b + body->pos, len);
    memcpy(p, k->str_bytes.b + s, len);
    body->pos = (size_t)(p + len - body->b);
  }
  if (!ensure(body, 10)) return 0;
  body->pos = (size_t)(put_u64(body->b + body->pos, to - from) - body->b);
  for (uint32_t i = from; i < to; i++) {
    uint32_t e = k->order[i];
    /* entries are visited in shard order, scattered over the tables: ask for an entry's counters a few ahead */
    if (i + PREFETCH < to) __builtin_prefetch(k->fields + (size_t)k->order[i + PREFETCH] * MEASURES);
    uint32_t dim = k->e_dim[e];
    uint32_t key = dim == DIM_REGION || dim == DIM_VENDOR ? (uint32_t)k->str_local[k->e_key[e]] : k->e_key[e];
    if (!write_entry(body, k->e_window[e] - base, dim, key, k->fields + (size_t)e * MEASURES, k->lat_sorted, k->lat_start[e], k->lat_start[e + 1])) return 0;
  }
  return 1;
}

/* BatchPartials.writeChunks: entries grouped by shard (a counting sort), latencies by entry, one chunk a shard. */
static int write_chunks(kpi_t *k) {
  uint32_t n = k->count, shards = k->shards;
  if (k->scratch_cap < n || k->lat_start == NULL) {
    uint32_t c = k->e_cap;
    if (!resize(&k->order, 0, c, 4) || !resize(&k->shard_of, 0, c, 4) || !resize(&k->lat_start, 0, (size_t)c + 1, 4)) return 0;
    k->scratch_cap = c;
  }
  if (k->lat_sorted_cap < k->lat_used) {
    if (!resize(&k->lat_sorted, 0, k->lat_cap, 2)) return 0;
    k->lat_sorted_cap = k->lat_cap;
  }
  uint32_t *start = k->shard_start;
  memset(start, 0, ((size_t)shards + 1) * 4);
  for (uint32_t e = 0; e < n; e++) {
    uint32_t s = shard_hash(k, k->e_dim[e], k->e_key[e]) % shards;
    k->shard_of[e] = s;
    start[s + 1]++;
  }
  for (uint32_t s = 0; s < shards; s++) start[s + 1] += start[s];
  for (uint32_t e = 0; e < n; e++) k->order[start[k->shard_of[e]]++] = e;
  for (uint32_t s = shards; s > 0; s--) start[s] = start[s - 1];
  start[0] = 0;
  uint32_t *lat_start = k->lat_start;
  lat_start[0] = 0;
  for (uint32_t e = 0; e < n; e++) lat_start[e + 1] = lat_start[e] + k->e_lat[e];
  for (uint32_t i = 0; i < k->lat_used; i++) k->lat_sorted[lat_start[k->lat_entry[i]]++] = k->lat_value[i];
  for (uint32_t e = n; e > 0; e--) lat_start[e] = lat_start[e - 1];
  lat_start[0] = 0;

  uint32_t chunks = 0;
  for (uint32_t s = 0; s < shards; s++) if (start[s + 1] > start[s]) chunks++;
  bytes_t *out = &k->out;
  if (!ensure(out, 10)) return 0;
  out->pos = (size_t)(put_u64(out->b + out->pos, chunks) - out->b);
  for (uint32_t s = 0; s < shards; s++) {
    uint32_t from = start[s], to = start[s + 1];
    if (to == from) continue;
    if (!write_chunk(k, from, to)) return 0;
    if (!ensure(out, 20 + k->body.pos)) return 0;
    uint8_t *p = put_u64(out->b + out->pos, s);
    p = put_u64(p, k->body.pos);
    memcpy(p, k->body.b, k->body.pos);
    out->pos = (size_t)(p + k->body.pos - out->b);
  }
  return 1;
}

static void reset_batch(kpi_t *k) {
  for (uint32_t e = 0; e < k->count; e++) k->index[k->e_slot[e]] = 0;
  k->count = 0;
  k->lat_used = 0;
  for (uint32_t i = 0; i < k->touched_count; i++) {
    k->p_max[k->touched[i]] = -INFINITY;
    k->p_records[k->touched[i]] = 0;
  }
  k->touched_count = 0;
  k->records = 0;
}

/* BatchPartials.finish's bytes into k->out. */
static int encode_batch(kpi_t *k) {
  bytes_t *out = &k->out;
  out->pos = 0;
  if (!ensure(out, 5 + 3 * 10 + (size_t)k->touched_count * 30)) return 0;
  uint8_t *p = out->b;
  p[0] = (uint8_t)(BATCH_MAGIC >> 24), p[1] = (uint8_t)(BATCH_MAGIC >> 16), p[2] = (uint8_t)(BATCH_MAGIC >> 8), p[3] = (uint8_t)BATCH_MAGIC;
  p[4] = PARTIALS_VERSION;
  p = put_uint(p + 5, k->window_ms);
  p = put_u64(p, k->shards);
  p = put_u64(p, k->touched_count);
  for (uint32_t i = 0; i < k->touched_count; i++) {
    uint32_t t = k->touched[i];
    p = put_u64(p, t);
    p = put_uint(p, k->p_max[t] == -INFINITY ? 0 : k->p_max[t]);
    p = put_u64(p, k->p_records[t]);
  }
  out->pos = (size_t)(p - out->b);
  return write_chunks(k);
}

static void destroy(kpi_t *k) {
  if (k == NULL) return;
  void *all[] = {
    k->index, k->e_window, k->e_dim, k->e_key, k->e_slot, k->e_lat, k->fields, k->lat_entry, k->lat_value, k->p_max,
    k->p_records, k->touched, k->eq_id, k->eq_filled, k->eq_region, k->eq_vendor, k->str_at, k->region_hash,
    k->vendor_hash, k->str_bytes.b, k->out.b, k->body.b, k->order, k->shard_of, k->lat_start, k->shard_start,
    k->lat_sorted, k->str_local, k->str_list, k->str_stamp,
  };
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) free(all[i]);
  free(k);
}

/* ---- the JS side ---- */

static napi_value fail(napi_env env, const char *message) {
  return throw_once(env, "E_NATIVE_KPI", message);
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  return napi_create_double(env, v, &r) == napi_ok ? r : NULL;
}

/* The call's arguments: argv[0] the accumulator, then `n - 1` more. */
static kpi_t *args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  void *k = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != n) return NULL;
  if (napi_get_value_external(env, argv[0], &k) != napi_ok) return NULL;
  return k;
}

static int u32_arg(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static int f64_arg(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  destroy(data);
}

/* create(windowMs, shards, dimensions): an accumulator; `dimensions` has bit d set for dimension code d. */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  double window_ms;
  uint32_t shards, dims;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 || !f64_arg(env, argv[0], &window_ms) ||
      !u32_arg(env, argv[1], &shards) || !u32_arg(env, argv[2], &dims) || !(window_ms >= 1) || shards < 1) {
    return fail(env, "create(windowMs, shards, dimensions) takes a positive window, a positive shard count and a dimension mask");
  }
  kpi_t *k = calloc(1, sizeof(kpi_t));
  if (k == NULL) return fail(env, "kpi partials: out of memory");
  k->window_ms = window_ms;
  k->shards = shards;
  k->prefix_cell = fnv_text(FNV_OFFSET, "cell:");
  k->prefix_equipment = fnv_text(FNV_OFFSET, "equipment:");
  k->by_cell = (dims >> DIM_CELL) & 1, k->by_equipment = (dims >> DIM_EQUIPMENT) & 1;
  k->by_region = (dims >> DIM_REGION) & 1, k->by_vendor = (dims >> DIM_VENDOR) & 1;
  k->lat_cap = INITIAL_LATENCIES;
  k->str_cap = 64;
  int ok = allocate_entries(k, INITIAL_ENTRIES) && allocate_equipment(k, INITIAL_EQUIPMENT) &&
           resize(&k->lat_entry, 0, k->lat_cap, 4) && resize(&k->lat_value, 0, k->lat_cap, 2) && grow_partitions(k, 15) &&
           resize(&k->str_at, 0, 2 * (size_t)k->str_cap, 4) && resize(&k->region_hash, 0, k->str_cap, 4) &&
           resize(&k->vendor_hash, 0, k->str_cap, 4) && resize(&k->shard_start, 0, (size_t)shards + 1, 4) &&
           ensure(&k->out, INITIAL_BYTES) && ensure(&k->body, INITIAL_BYTES);
  napi_value handle;
  if (!ok || napi_create_external(env, k, finalize, NULL, &handle) != napi_ok) {
    destroy(k);
    return fail(env, "kpi partials: out of memory");
  }
  return handle;
}

/* The records of a slot's message table: from message io[FROM_MESSAGE], record io[FROM_RECORD], to `count`. */
static napi_value add_slot(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  kpi_t *k = args(env, info, 6, argv);
  void *mem, *iov;
  size_t mem_len, io_len;
  uint32_t msg, recs, count;
  if (k == NULL || !typed(env, argv[1], napi_uint32_array, &mem, &mem_len) || !u32_arg(env, argv[2], &msg) ||
      !u32_arg(env, argv[3], &recs) || !u32_arg(env, argv[4], &count) || !typed(env, argv[5], napi_uint32_array, &iov, &io_len) ||
      io_len < IO_WORDS * 4) {
    return fail(env, "addSlot(partials, u32, msgPtr, recPtr, count, io) takes an accumulator, the decoder's memory as a Uint32Array, three offsets and the io words");
  }
  uint32_t *io = iov;
  const uint32_t *m32 = mem;
  if ((size_t)msg + (size_t)count * MSG_WORDS * 4 > mem_len || (msg & 3) != 0 || (recs & 7) != 0) return fail(env, "addSlot: the message table lies outside the memory");
  uint32_t r = io[IO_FROM_RECORD];
  int status = ST_DONE;
  uint32_t m = io[IO_FROM_MESSAGE];
  for (; m < count; m++, r = 0) {
    const uint32_t *row = m32 + (msg >> 2) + (size_t)m * MSG_WORDS;
    if (row[M_REASON] != 0) continue;
    uint32_t first = row[M_FIRST], n = row[M_COUNT];
    if (recs + ((size_t)first + n) * REC_WORDS * 4 > mem_len) return fail(env, "addSlot: a message's records lie outside the memory");
    status = add_records(k, m32, (recs >> 2) + (size_t)first * REC_WORDS, r, n, row[M_PARTITION], io);
    if (status != ST_DONE) break;
  }
  io[IO_AT_MESSAGE] = m;
  io[IO_RECORDS] = (uint32_t)k->records;
  if (status == ST_NO_MEMORY) return fail(env, "addSlot: out of memory");
  return number(env, status);
}

/* addRecords(partials, u32, recWord, count, partition, io): `count` records at word `recWord`, from io[FROM_RECORD]. */
static napi_value add_records_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  kpi_t *k = args(env, info, 6, argv);
  void *mem, *iov;
  size_t mem_len, io_len;
  uint32_t rec, count;
  double partition;
  if (k == NULL || !typed(env, argv[1], napi_uint32_array, &mem, &mem_len) || !u32_arg(env, argv[2], &rec) ||
      !u32_arg(env, argv[3], &count) || !f64_arg(env, argv[4], &partition) || !typed(env, argv[5], napi_uint32_array, &iov, &io_len) ||
      io_len < IO_WORDS * 4) {
    return fail(env, "addRecords(partials, u32, recWord, count, partition, io) takes an accumulator, a Uint32Array, three numbers and the io words");
  }
  if (((size_t)rec + (size_t)count * REC_WORDS) * 4 > mem_len || (rec & 1) != 0) return fail(env, "addRecords: the records lie outside the memory");
  uint32_t *io = iov;
  int status = add_records(k, mem, rec, io[IO_FROM_RECORD], count, partition, io);
  io[IO_RECORDS] = (uint32_t)k->records;
  if (status == ST_NO_MEMORY) return fail(env, "addRecords: out of memory");
  return number(env, status);
}

/* define(partials, equipmentId, regionId, vendorId): what EquipmentKeys resolved for an equipment (-1: no key). */
static napi_value define(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  kpi_t *k = args(env, info, 4, argv);
  uint32_t id;
  int32_t region, vendor;
  if (k == NULL || !u32_arg(env, argv[1], &id) || napi_get_value_int32(env, argv[2], &region) != napi_ok ||
      napi_get_value_int32(env, argv[3], &vendor) != napi_ok) {
    return fail(env, "define(partials, equipmentId, regionId, vendorId) takes an accumulator and three integers");
  }
  if ((region != NO_KEY && (region < 0 || (uint32_t)region >= k->str_count)) || (vendor != NO_KEY && (vendor < 0 || (uint32_t)vendor >= k->str_count))) {
    return fail(env, "define: a region or vendor id names a string not handed over");
  }
  if (equipment_slot(k, id) >= 0) return NULL;
  if ((k->eq_count + 1) * 2 > k->eq_cap && !allocate_equipment(k, k->eq_cap * 2)) return fail(env, "define: out of memory");
  uint32_t s = (id * 0x9e3779b1u) >> k->eq_shift;
  while (k->eq_filled[s]) s = (s + 1) & (k->eq_cap - 1);
  k->eq_filled[s] = 1, k->eq_id[s] = id, k->eq_region[s] = region, k->eq_vendor[s] = vendor;
  k->eq_count++;
  return NULL;
}

/* string(partials, utf8, regionHash, vendorHash): the next interned string; its id is the count of those before. */
static napi_value string(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  kpi_t *k = args(env, info, 4, argv);
  void *text;
  size_t len;
  uint32_t rh, vh;
  if (k == NULL || !typed(env, argv[1], napi_uint8_array, &text, &len) || !u32_arg(env, argv[2], &rh) || !u32_arg(env, argv[3], &vh)) {
    return fail(env, "string(partials, utf8, regionHash, vendorHash) takes an accumulator, a Uint8Array and two hashes");
  }
  if (k->str_count == k->str_cap) {
    uint32_t n = k->str_cap * 2;
    if (!resize(&k->str_at, 2 * (size_t)k->str_cap, 2 * (size_t)n, 4) || !resize(&k->region_hash, k->str_cap, n, 4) ||
        !resize(&k->vendor_hash, k->str_cap, n, 4)) return fail(env, "string: out of memory");
    k->str_cap = n;
  }
  if (k->str_bytes.pos + len > 0xffffffffu || !ensure(&k->str_bytes, len)) return fail(env, "string: out of memory");
  memcpy(k->str_bytes.b + k->str_bytes.pos, text, len);
  uint32_t id = k->str_count++;
  k->str_at[2 * id] = (uint32_t)k->str_bytes.pos;
  k->str_bytes.pos += len;
  k->str_at[2 * id + 1] = (uint32_t)k->str_bytes.pos;
  k->region_hash[id] = rh;
  k->vendor_hash[id] = vh;
  return NULL;
}

/* forget(partials, strings): a new reference version — the equipment cache emptied, the strings cut to `strings`. */
static napi_value forget(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  kpi_t *k = args(env, info, 2, argv);
  uint32_t strings;
  if (k == NULL || !u32_arg(env, argv[1], &strings)) return fail(env, "forget(partials, strings) takes an accumulator and a count");
  memset(k->eq_filled, 0, k->eq_cap);
  k->eq_count = 0;
  if (strings < k->str_count) {
    k->str_count = strings;
    k->str_bytes.pos = strings == 0 ? 0 : k->str_at[2 * strings - 1];
  }
  return NULL;
}

/* finish(partials): the open batch's bytes in a Buffer of their own; the next batch starts empty. */
static napi_value finish(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  kpi_t *k = args(env, info, 1, argv);
  if (k == NULL) return fail(env, "finish(partials) takes an accumulator");
  if (!encode_batch(k)) return fail(env, "finish: out of memory");
  /* a Buffer of its own (never pooled: its ArrayBuffer transfers), filled by the copy rather than zeroed first */
  napi_value buf;
  if (napi_create_buffer_copy(env, k->out.pos, k->out.b, NULL, &buf) != napi_ok) return fail(env, "finish: no Buffer");
  reset_batch(k);
  return buf;
}

static napi_value reset(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  kpi_t *k = args(env, info, 1, argv);
  if (k == NULL) return fail(env, "reset(partials) takes an accumulator");
  reset_batch(k);
  return NULL;
}

/* byteSize(partials): bytes held by the tables, lists and scratch. */
static napi_value byte_size(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  kpi_t *k = args(env, info, 1, argv);
  if (k == NULL) return fail(env, "byteSize(partials) takes an accumulator");
  size_t n = (size_t)k->capacity * 4 + (size_t)k->e_cap * (8 + 1 + 4 + 4 + 4 + MEASURES * 8) + (size_t)k->lat_cap * 6 +
             (size_t)k->p_cap * 14 + (size_t)k->eq_cap * 13 + (size_t)k->str_cap * 16 + k->str_bytes.cap + k->out.cap + k->body.cap +
             (size_t)k->scratch_cap * 12 + (size_t)k->lat_sorted_cap * 2 + (size_t)k->str_scratch_cap * 12;
  return number(env, (double)n);
}

/* The layout this file was compiled with, for the loader to compare with layout.ts, measures.ts, names.ts and partials-codec.ts. */
static napi_value layout_words(napi_env env) {
  static const uint32_t words[] = {
    MSG_WORDS, M_REASON, M_FIRST, M_COUNT, M_PARTITION, REC_WORDS, R_TIME_F64, R_EQUIPMENT, R_CELL, R_BYTES_UP,
    R_BYTES_DOWN, R_CODES, R_CAUSE_SETUP, R_RSRP, F_RSRP, F_SETUP_LATENCY, ATTACH, SESSION_START, HANDOVER,
    RADIO_LINK_FAILURE, CALL_DROP, M_RECORDS, M_FAILURES, M_ATTACH_ATTEMPTS, M_ATTACH_SUCCESSES, M_SESSION_ATTEMPTS,
    M_SESSION_SUCCESSES, M_HANDOVER_ATTEMPTS, M_HANDOVER_SUCCESSES, M_CALL_DROPS, M_RADIO_LINK_FAILURES, M_RSRP_COUNT,
    M_RSRP_SUM, M_RSRP_MIN, M_BYTES_UP, M_BYTES_DOWN, MEASURES, DIM_CELL, DIM_EQUIPMENT, DIM_REGION, DIM_VENDOR,
    BATCH_MAGIC, PARTIALS_VERSION, MAX_PARTITION, IO_WORDS,
  };
  return words_array(env, words, sizeof(words) / sizeof(words[0]));
}

NAPI_MODULE_INIT() {
  static const export_fn fns[] = {
    {"create", create}, {"addSlot", add_slot}, {"addRecords", add_records_js}, {"define", define}, {"string", string},
    {"forget", forget}, {"finish", finish}, {"reset", reset}, {"byteSize", byte_size},
  };
  return export_module(env, exports, fns, sizeof(fns) / sizeof(fns[0]), layout_words(env));
}
