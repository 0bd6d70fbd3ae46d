/*
 * The decode worker's record serializer in C: a slot's decoded records plus the reference data → the exact SPEC
 * section 3 JSON bytes RecordJsonWriter (src/enrich/record-json.ts) writes, a whole slot in one call.
 *
 * Why: in the daemon the decode worker is the busiest thread, and its JSON writing was the largest part of its time
 * (≈ 2 µs of a record's ≈ 10 in JavaScript, mostly bytes copied one typed-array store at a time). Here the constant
 * keys and the snapshot's pre-escaped literals are memcpy'd, numbers and times written digit by digit.
 *
 * Nothing is decided here that the JavaScript writer does not decide: the constant texts (keys, `null`, the 216
 * enum combinations) come from record-json.ts as one blob, the snapshot's table offsets from Snapshot.layoutWords(),
 * the fixed byte bound and the enum counts from the caller. The lookups (overlay first, tombstones, vendor names read
 * at write time, interventions by binary search) mirror Snapshot and RecordJsonWriter line for line; the tests hold
 * the two writers to the same bytes as JSON.stringify. The record and message layout (src/decode/layout.ts) is
 * compiled in and exported as `layout`, which the loader compares with layout.ts before it trusts this file.
 *
 * Every buffer is a typed array over memory JavaScript owns (the decoder's shared memory, the slot's output area, the
 * snapshot's SharedArrayBuffer); nothing is allocated, nothing kept between calls, so one image serves every worker.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"
#include "napi_util.h"

/* ---- snapshot.ts: row words ---- */
#define EQ_WORDS 8
#define EQ_NAME 1
#define EQ_MODEL 2
#define EQ_SITE 4
#define EQ_REGION 5
#define EQ_VENDOR 6
#define EQ_FLAGS 7
#define EQ_DELETED 1
#define NO_VENDOR 0xffffffffu
#define ERR_WORDS 2
#define ERR_JSON 1
#define ERR_DELETED 0xffffffffu
#define IV_WORDS 2
#define IV_JSON 1
#define NULL_STRING 0

/* Snapshot.layoutWords(): word indexes and hash parameters of one snapshot's tables, in this order. */
enum {
  S_EQ_BASE, S_EQ_HASH, S_EQ_MASK, S_EQ_SHIFT, S_VENDOR_BASE, S_VENDOR_COUNT, S_ERR_BASE, S_ERR_HASH, S_ERR_MASK,
  S_ERR_SHIFT, S_IV_BASE, S_IV_START, S_IV_END, S_IV_HASH, S_IV_MASK, S_IV_SHIFT, S_IV_COUNT, S_STR_BASE, S_POOL_BASE,
  S_STR_COUNT, S_WORDS
};

/* The constants of record-json.ts, by index into the blob's (start, end) table. */
enum {
  K_EVENT_TIME, K_EQUIPMENT_ID, K_FRAME_SEQ, K_RECORD_INDEX, K_CAUSE_CODE, K_DURATION, K_BYTES_UP, K_BYTES_DOWN, K_IMSI,
  K_APN, K_RSRP, K_TARGET_CELL, K_SETUP_LATENCY, K_VENDOR_DETAIL, K_EQUIPMENT, K_EQ_NAME, K_EQ_MODEL, K_EQ_VENDOR,
  K_EQ_SITE, K_EQ_REGION, K_CAUSE, K_MAINTENANCE, K_NULL, K_ENUMS
};

/* The call's `io` words: inputs, then what the call reports back. */
enum {
  IO_MSG_PTR, IO_REC_PTR, IO_COUNT, IO_FROM, IO_FROM_RECORD, IO_WRAP, IO_FIXED_BYTES, IO_MAX_REF_JSON, IO_N_TYPES,
  IO_N_RESULTS, IO_N_RATS, IO_DONE, IO_DONE_RECORD, IO_RECORDS, IO_FULL, IO_WORDS
};

typedef struct {
  const uint8_t *bytes;
  size_t len;
  const uint32_t *u32;
  const double *f64;
  uint32_t w[S_WORDS];
} snap_t;

typedef struct {
  const uint8_t *mem;
  size_t mem_len;
  const uint32_t *m32;
  const uint8_t *consts;
  const uint32_t *const_at; /* (start, end) per constant */
  uint32_t const_count;
  snap_t base, overlay;
  int has_overlay;
  uint32_t fixed_bytes, max_ref_json, n_types, n_results, n_rats;
  int bad; /* a pointer outside its buffer: the call throws */
} ctx_t;

/* Escape form of each byte inside a JSON string: 0 copy as is, else the escape's second char ('u' = \u00XX). */
#define U4(a) [a] = 'u', [a + 1] = 'u', [a + 2] = 'u', [a + 3] = 'u'
static const uint8_t ESCAPE[256] = {
  U4(0x00), U4(0x04), U4(0x08), U4(0x0c), U4(0x10), U4(0x14), U4(0x18), U4(0x1c),
  [0x08] = 'b', [0x09] = 't', [0x0a] = 'n', [0x0c] = 'f', [0x0d] = 'r', ['"'] = '"', ['\\'] = '\\',
};
static const uint8_t HEX[] = "0123456789abcdef";

static inline uint8_t *constant(const ctx_t *c, uint8_t *p, uint32_t k) {
  uint32_t s = c->const_at[2 * k], e = c->const_at[2 * k + 1];
  memcpy(p, c->consts + s, e - s);
  return p + (e - s);
}

static inline uint8_t *write_u32(uint8_t *p, uint32_t v) {
  uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = (uint8_t)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

static inline void write2(uint8_t *p, int v) {
  p[0] = (uint8_t)('0' + v / 10);
  p[1] = (uint8_t)('0' + v % 10);
}

static inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Date.prototype.toISOString of a time in ms: `YYYY-MM-DDTHH:MM:SS.mmmZ`, or ±YYYYYY outside years 0..9999. */
static uint8_t *write_iso_time(uint8_t *p, double ms_f) {
  int64_t ms = (int64_t)ms_f;
  int64_t days = floor_div(ms, 86400000);
  int64_t rem = ms - days * 86400000;
  /* civil_from_days (H. Hinnant), as writeIsoTime in record-json.ts */
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int day = (int)(doy - (153 * mp + 2) / 5 + 1);
  int month = (int)(mp < 10 ? mp + 3 : mp - 9);
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year >= 0 && year <= 9999) {
    write2(p, (int)(year / 100));
    write2(p + 2, (int)(year % 100));
    p += 4;
  } else {
    int64_t y = year < 0 ? -year : year;
    *p++ = year < 0 ? '-' : '+';
    for (int i = 5; i >= 0; i--) {
      p[i] = (uint8_t)('0' + y % 10);
      y /= 10;
    }
    p += 6;
  }
  p[0] = '-';
  write2(p + 1, month);
  p[3] = '-';
  write2(p + 4, day);
  p[6] = 'T';
  int hour = (int)(rem / 3600000);
  rem -= (int64_t)hour * 3600000;
  int minute = (int)(rem / 60000);
  rem -= (int64_t)minute * 60000;
  int second = (int)(rem / 1000);
  int milli = (int)(rem - (int64_t)second * 1000);
  write2(p + 7, hour);
  p[9] = ':';
  write2(p + 10, minute);
  p[12] = ':';
  write2(p + 13, second);
  p[15] = '.';
  p[16] = (uint8_t)('0' + milli / 100);
  write2(p + 17, milli % 100);
  p[19] = 'Z';
  return p + 20;
}

/* Raw UTF-8 bytes as the inside of a JSON string, escaped as JSON.stringify does. */
static uint8_t *write_escaped(uint8_t *p, const uint8_t *src, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    uint8_t b = src[i];
    uint8_t e = ESCAPE[b];
    if (e == 0) {
      *p++ = b;
    } else if (e != 'u') {
      *p++ = '\\';
      *p++ = e;
    } else {
      p[0] = '\\';
      p[1] = 'u';
      p[2] = '0';
      p[3] = '0';
      p[4] = HEX[b >> 4];
      p[5] = HEX[b & 15];
      p += 6;
    }
  }
  return p;
}

static inline uint32_t slot_of(uint32_t key, uint32_t shift) { return (uint32_t)(key * 0x9e3779b1u) >> shift; }

/* A row by key in one of the snapshot's open-addressing tables of (key, row + 1) slots, or -1; `table` is S_EQ_HASH or
   S_ERR_HASH, whose mask and shift follow it in the layout words. */
static int64_t row_of(const snap_t *s, int table, uint32_t key) {
  uint32_t slot = slot_of(key, s->w[table + 2]);
  for (;;) {
    const uint32_t *h = s->u32 + s->w[table] + (size_t)slot * 2;
    if (h[1] == 0) return -1;
    if (h[0] == key) return (int64_t)h[1] - 1;
    slot = (slot + 1) & s->w[table + 1];
  }
}

static inline int64_t equipment_row(const snap_t *s, uint32_t id) { return row_of(s, S_EQ_HASH, id); }

static inline int64_t error_code_row(const snap_t *s, uint32_t vendor, uint32_t cause) {
  return vendor == NO_VENDOR ? -1 : row_of(s, S_ERR_HASH, (vendor << 16) | cause);
}

/* Snapshot.interventionLookup: the row covering timeMs, -1 when none, -2 when the snapshot has no list for it. */
static int64_t intervention_lookup(const snap_t *s, uint32_t id, double time) {
  uint32_t slot = slot_of(id, s->w[S_IV_SHIFT]);
  int64_t first, count;
  for (;;) {
    const uint32_t *h = s->u32 + s->w[S_IV_HASH] + (size_t)slot * 4;
    if (h[1] == 0) return -2;
    if (h[0] == id) {
      first = (int64_t)h[1] - 1;
      count = h[2];
      break;
    }
    slot = (slot + 1) & s->w[S_IV_MASK];
  }
  const double *starts = s->f64 + s->w[S_IV_START];
  const double *ends = s->f64 + s->w[S_IV_END];
  int64_t lo = first, hi = first + count;
  while (lo < hi) {
    int64_t mid = (lo + hi) >> 1;
    if (starts[mid] <= time) lo = mid + 1;
    else hi = mid;
  }
  for (int64_t r = lo - 1; r >= first; r--) {
    if (time < ends[r]) return r;
  }
  return -1;
}

static inline uint32_t vendor_name_id(const snap_t *s, uint32_t vendor) {
  return vendor < s->w[S_VENDOR_COUNT] ? s->u32[s->w[S_VENDOR_BASE] + (size_t)vendor * 2 + 1] : NULL_STRING;
}

static inline uint8_t *literal(ctx_t *c, uint8_t *p, const snap_t *s, uint32_t id) {
  if (id >= s->w[S_STR_COUNT]) {
    c->bad = 1;
    return p;
  }
  const uint32_t *at = s->u32 + s->w[S_STR_BASE] + id;
  size_t start = (size_t)s->w[S_POOL_BASE] + at[0], end = (size_t)s->w[S_POOL_BASE] + at[1];
  if (end < start || end > s->len) {
    c->bad = 1;
    return p;
  }
  memcpy(p, s->bytes + start, end - start);
  return p + (end - start);
}

/* RecordJsonWriter.write: the record at byte offset rec into out + pos; the new position, or -1 when it might not fit. */
static int64_t write_record(ctx_t *c, size_t rec, uint8_t *out, size_t out_len, size_t pos) {
  const uint32_t *r = c->m32 + (rec >> 2);
  const snap_t *base = &c->base;
  const snap_t *ov = c->has_overlay ? &c->overlay : NULL;
  uint32_t codes = r[R_CODES];
  uint32_t flags = codes >> 24;
  uint32_t equipment_id = r[R_EQUIPMENT];
  double time;
  memcpy(&time, r + R_TIME_F64, sizeof(time));
  uint32_t cause_setup = r[R_CAUSE_SETUP];
  uint32_t cause_code = cause_setup & 0xffff;
  uint32_t apn_len = flags & F_APN ? r[R_APN_LEN] : 0;
  uint32_t vd_len = flags & F_VENDOR_DETAIL ? r[R_VD_LEN] : 0;
  if ((flags & F_APN && (size_t)r[R_APN_PTR] + apn_len > c->mem_len) ||
      (flags & F_VENDOR_DETAIL && (size_t)r[R_VD_PTR] + vd_len > c->mem_len) ||
      (flags & F_IMSI && ((size_t)r[R_IMSI_PTR] + 8 > c->mem_len || r[R_IMSI_DIGITS] > 16))) {
    c->bad = 1;
    return -1;
  }

  /* equipment: an overlay row (or tombstone) hides the base's */
  const snap_t *eq_snap = base;
  int64_t eq_row = -1;
  if (ov) {
    eq_row = equipment_row(ov, equipment_id);
    if (eq_row >= 0) {
      eq_snap = ov;
      if (ov->u32[ov->w[S_EQ_BASE] + (size_t)eq_row * EQ_WORDS + EQ_FLAGS] & EQ_DELETED) eq_row = -2;
    }
  }
  if (eq_row == -1) eq_row = equipment_row(base, equipment_id);
  const snap_t *err_snap = base;
  int64_t err_row = -1;
  size_t eq_word = 0;
  uint32_t vendor = NO_VENDOR;
  if (eq_row >= 0) {
    eq_word = eq_snap->w[S_EQ_BASE] + (size_t)eq_row * EQ_WORDS;
    vendor = eq_snap->u32[eq_word + EQ_VENDOR];
    /* cause_code 0 means "no error code" (SPEC section 1), so it never names a cause */
    if (cause_code != 0 && vendor != NO_VENDOR) {
      if (ov) {
        err_row = error_code_row(ov, vendor, cause_code);
        if (err_row >= 0) {
          err_snap = ov;
          if (ov->u32[ov->w[S_ERR_BASE] + (size_t)err_row * ERR_WORDS + ERR_JSON] == ERR_DELETED) err_row = -2;
        }
      }
      if (err_row == -1) err_row = error_code_row(base, vendor, cause_code);
    }
  }
  const snap_t *iv_snap = base;
  int64_t iv_row = -2;
  if (ov) {
    iv_row = intervention_lookup(ov, equipment_id, time);
    if (iv_row != -2) iv_snap = ov;
  }
  if (iv_row == -2) {
    if (base->w[S_IV_COUNT] == 0) iv_row = -1;
    else {
      iv_row = intervention_lookup(base, equipment_id, time);
      if (iv_row < 0) iv_row = -1;
    }
  }

  if (pos + c->fixed_bytes + 6 * ((size_t)apn_len + vd_len) + c->max_ref_json > out_len) return -1;
  uint8_t *p = out + pos;

  p = constant(c, p, K_EVENT_TIME);
  p = write_iso_time(p, time);
  p = constant(c, p, K_EQUIPMENT_ID);
  p = write_u32(p, equipment_id);
  p = constant(c, p, K_FRAME_SEQ);
  p = write_u32(p, r[R_FRAME_SEQ]);
  p = constant(c, p, K_RECORD_INDEX);
  p = write_u32(p, r[R_INDEX]);
  uint32_t type = codes & 0xff, result = (codes >> 8) & 0xff, rat = (codes >> 16) & 0xff;
  uint32_t enums = (type < c->n_types ? type : 0) * (c->n_results * c->n_rats) +
                   (result < c->n_results ? result : c->n_results - 1) * c->n_rats + (rat < c->n_rats ? rat : 0);
  p = constant(c, p, K_ENUMS + enums);
  p = write_u32(p, r[R_CELL]);
  p = constant(c, p, K_CAUSE_CODE);
  p = write_u32(p, cause_code);
  p = constant(c, p, K_DURATION);
  p = write_u32(p, r[R_DURATION]);
  p = constant(c, p, K_BYTES_UP);
  p = write_u32(p, r[R_BYTES_UP]);
  p = constant(c, p, K_BYTES_DOWN);
  p = write_u32(p, r[R_BYTES_DOWN]);
  p = constant(c, p, K_IMSI);
  if (flags & F_IMSI) {
    const uint8_t *imsi = c->mem + r[R_IMSI_PTR];
    uint32_t digits = r[R_IMSI_DIGITS];
    *p++ = '"';
    for (uint32_t i = 0; i < digits; i++) {
      uint8_t b = imsi[i >> 1];
      *p++ = (uint8_t)('0' + (i & 1 ? b >> 4 : b & 15));
    }
    *p++ = '"';
  } else {
    p = constant(c, p, K_NULL);
  }
  if (flags & F_APN) {
    p = constant(c, p, K_APN);
    p = write_escaped(p, c->mem + r[R_APN_PTR], apn_len);
    *p++ = '"';
  }
  if (flags & F_RSRP) {
    p = constant(c, p, K_RSRP);
    int32_t rsrp = (int32_t)r[R_RSRP];
    if (rsrp < 0) {
      *p++ = '-';
      p = write_u32(p, (uint32_t)(-(int64_t)rsrp));
    } else {
      p = write_u32(p, (uint32_t)rsrp);
    }
  }
  if (flags & F_TARGET_CELL) {
    p = constant(c, p, K_TARGET_CELL);
    p = write_u32(p, r[R_TARGET_CELL]);
  }
  if (flags & F_SETUP_LATENCY) {
    p = constant(c, p, K_SETUP_LATENCY);
    p = write_u32(p, cause_setup >> 16);
  }
  if (flags & F_VENDOR_DETAIL) {
    p = constant(c, p, K_VENDOR_DETAIL);
    p = write_escaped(p, c->mem + r[R_VD_PTR], vd_len);
    *p++ = '"';
  }
  p = constant(c, p, K_EQUIPMENT);
  if (eq_row >= 0) {
    const uint32_t *e = eq_snap->u32 + eq_word;
    const snap_t *names = ov ? ov : base;
    p = constant(c, p, K_EQ_NAME);
    p = literal(c, p, eq_snap, e[EQ_NAME]);
    p = constant(c, p, K_EQ_MODEL);
    p = literal(c, p, eq_snap, e[EQ_MODEL]);
    p = constant(c, p, K_EQ_VENDOR);
    p = literal(c, p, names, vendor == NO_VENDOR ? NULL_STRING : vendor_name_id(names, vendor));
    p = constant(c, p, K_EQ_SITE);
    p = literal(c, p, eq_snap, e[EQ_SITE]);
    p = constant(c, p, K_EQ_REGION);
    p = literal(c, p, eq_snap, e[EQ_REGION]);
    *p++ = '}';
  } else {
    p = constant(c, p, K_NULL);
  }
  p = constant(c, p, K_CAUSE);
  p = err_row >= 0 ? literal(c, p, err_snap, err_snap->u32[err_snap->w[S_ERR_BASE] + (size_t)err_row * ERR_WORDS + ERR_JSON])
                   : constant(c, p, K_NULL);
  p = constant(c, p, K_MAINTENANCE);
  p = iv_row >= 0 ? literal(c, p, iv_snap, iv_snap->u32[iv_snap->w[S_IV_BASE] + (size_t)iv_row * IV_WORDS + IV_JSON])
                  : constant(c, p, K_NULL);
  *p++ = '}';
  return (int64_t)(p - out);
}

/* ---- the JS side ---- */

static napi_value fail(napi_env env, const char *message) {
  return throw_once(env, "E_NATIVE_JSON", message);
}

static int snapshot(napi_env env, napi_value bytes, napi_value words, snap_t *s) {
  void *data, *w;
  size_t len, wlen;
  if (!typed(env, bytes, napi_uint8_array, &data, &len) || !typed(env, words, napi_uint32_array, &w, &wlen)) return 0;
  if (wlen != S_WORDS * 4 || ((uintptr_t)data & 7) != 0) return 0;
  s->bytes = data;
  s->len = len;
  s->u32 = data;
  s->f64 = data;
  memcpy(s->w, w, sizeof(s->w));
  return 1;
}

/*
 * writeSlot(mem, consts, constAt, base, baseWords, overlay, overlayWords, out, ends, io): serializes the slot's
 * records from (io[FROM], io[FROM_RECORD]) into `out`, each record's end offset into `ends`, until the messages end or
 * `out` might not hold the next record; reports in io[DONE..FULL] as decode-worker.ts's loop did. overlay and
 * overlayWords are null without an overlay.
 */
static napi_value write_slot(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) return fail(env, "writeSlot takes 10 arguments");
  ctx_t c;
  memset(&c, 0, sizeof(c));
  void *mem, *consts, *const_at, *out, *ends, *io;
  size_t mem_len, consts_len, const_at_len, out_len, ends_len, io_len;
  if (!typed(env, argv[0], napi_uint8_array, &mem, &mem_len)) return fail(env, "writeSlot: mem must be a Uint8Array");
  if (!typed(env, argv[1], napi_uint8_array, &consts, &consts_len) || !typed(env, argv[2], napi_uint32_array, &const_at, &const_at_len)) {
    return fail(env, "writeSlot: the constants must be a Uint8Array and a Uint32Array");
  }
  if (!snapshot(env, argv[3], argv[4], &c.base)) return fail(env, "writeSlot: the base must be a snapshot's bytes and layout words");
  napi_valuetype ovt;
  napi_typeof(env, argv[5], &ovt);
  if (ovt != napi_null) {
    if (!snapshot(env, argv[5], argv[6], &c.overlay)) return fail(env, "writeSlot: the overlay must be a snapshot's bytes and layout words, or null");
    c.has_overlay = 1;
  }
  if (!typed(env, argv[7], napi_uint8_array, &out, &out_len) || !typed(env, argv[8], napi_uint32_array, &ends, &ends_len) ||
      !typed(env, argv[9], napi_uint32_array, &io, &io_len) || io_len < IO_WORDS * 4) {
    return fail(env, "writeSlot: out, ends and io must be a Uint8Array and two Uint32Arrays");
  }
  uint32_t *w = io;
  c.mem = mem;
  c.mem_len = mem_len;
  c.m32 = mem;
  c.consts = consts;
  c.const_at = const_at;
  c.const_count = (uint32_t)(const_at_len / 8);
  c.fixed_bytes = w[IO_FIXED_BYTES];
  c.max_ref_json = w[IO_MAX_REF_JSON];
  c.n_types = w[IO_N_TYPES];
  c.n_results = w[IO_N_RESULTS];
  c.n_rats = w[IO_N_RATS];
  if (c.const_count != K_ENUMS + c.n_types * c.n_results * c.n_rats) return fail(env, "writeSlot: the constants table does not match the enum counts");
  for (uint32_t k = 0; k < c.const_count; k++) {
    if (c.const_at[2 * k] > c.const_at[2 * k + 1] || c.const_at[2 * k + 1] > consts_len) return fail(env, "writeSlot: a constant lies outside its blob");
  }
  size_t msg = w[IO_MSG_PTR], recs = w[IO_REC_PTR];
  uint32_t count = w[IO_COUNT], m = w[IO_FROM], r = w[IO_FROM_RECORD];
  int wrap = w[IO_WRAP] != 0;
  if (msg + (size_t)count * MSG_WORDS * 4 > mem_len || (msg & 3) != 0 || (recs & 7) != 0) return fail(env, "writeSlot: the message table lies outside the memory");
  size_t max_ends = ends_len / 4;
  size_t pos = 0;
  uint32_t written = 0;
  int full = 0;
  for (; m < count && !full; m++, r = 0) {
    const uint32_t *row = c.m32 + (msg >> 2) + (size_t)m * MSG_WORDS;
    if (row[M_REASON] != 0) continue;
    uint32_t first = row[M_FIRST], n = row[M_COUNT];
    if (recs + ((size_t)first + n) * REC_BYTES > mem_len) return fail(env, "writeSlot: a message's records lie outside the memory");
    for (; r < n; r++) {
      size_t rec = recs + ((size_t)first + r) * REC_BYTES;
      int64_t next = written < max_ends ? write_record(&c, rec, out, out_len, pos) : -1;
      if (next < 0 && wrap && pos > 0 && !c.bad) next = write_record(&c, rec, out, out_len, (pos = 0));
      if (c.bad) return fail(env, "writeSlot: a record or a reference literal points outside its buffer");
      if (next < 0) {
        full = 1;
        break;
      }
      pos = (size_t)next;
      ((uint32_t *)ends)[written++] = (uint32_t)pos;
    }
    if (full) break;
  }
  w[IO_DONE] = m;
  w[IO_DONE_RECORD] = full ? r : 0;
  w[IO_RECORDS] = written;
  w[IO_FULL] = (uint32_t)full;
  return NULL;
}

/* The layout this file was compiled with, for the loader to compare with src/decode/layout.ts and snapshot.ts. */
static napi_value layout_words(napi_env env) {
  static const uint32_t words[] = {
    MSG_WORDS, M_REASON, M_FIRST, M_COUNT, REC_WORDS, R_TIME_F64, R_EQUIPMENT, R_FRAME_SEQ, R_INDEX, R_CELL, R_DURATION,
    R_BYTES_UP, R_BYTES_DOWN, R_TARGET_CELL, R_APN_PTR, R_APN_LEN, R_VD_PTR, R_VD_LEN, R_IMSI_PTR, R_IMSI_DIGITS,
    R_CODES, R_CAUSE_SETUP, R_RSRP, F_APN, F_RSRP, F_TARGET_CELL, F_SETUP_LATENCY, F_VENDOR_DETAIL, F_IMSI, EQ_WORDS,
    EQ_NAME, EQ_MODEL, EQ_SITE, EQ_REGION, EQ_VENDOR, EQ_FLAGS, EQ_DELETED, NO_VENDOR, ERR_WORDS, ERR_JSON,
    ERR_DELETED, IV_WORDS, IV_JSON, NULL_STRING, S_WORDS, K_ENUMS, IO_WORDS,
  };
  return words_array(env, words, sizeof(words) / sizeof(words[0]));
}

NAPI_MODULE_INIT() {
  static const export_fn fns[] = {{"writeSlot", write_slot}};
  return export_module(env, exports, fns, 1, layout_words(env));
}
