/*
 * Copies of frames handed to zeromq.js, made in memory that is used again.
 *
 * zeromq.js keeps a frame over 128 bytes by reference until its I/O thread has written it, and
 * drops that reference with no event JavaScript sees: the only sign is that the frame's object
 * becomes garbage. A copy into a fresh Buffer costs more than the copy itself at 64 KiB and
 * above (malloc hands out pages the kernel must fault in and zero, and returns them on free).
 * Here each copy is a new external Buffer, so V8 counts its bytes as new external memory and
 * schedules its collections as it does for fresh Buffers (nothing is forced), but its memory
 * comes from a free list of chunks already faulted in; the Buffer's finalizer, run once V8
 * collected it (zeromq.js has let go by then), puts the chunk back.
 *
 * A chunk that must be made new costs more than the copy: on a busy VM, faulting in new memory
 * in 4 KiB pages took 2.9-3.0 ms per MiB against 30-110 us for a 1 MiB copy into a chunk already
 * in use. So chunks of 256 KiB and up are carved from 2 MiB-aligned mappings marked
 * MADV_HUGEPAGE: the first touch faults in one huge page (0.1-0.7 ms per MiB there, zeroing
 * included) and the rest of the mapping goes onto the free list at once, already backed. Smaller chunks come from
 * malloc, whose heap reuses its pages without faults.
 *
 * Chunks are grouped in power-of-two size classes; at most `idle_cap` bytes wait on the free
 * lists, the rest goes back to malloc, and `trim()` (called every few seconds from JavaScript
 * while copies are made) frees the chunks that stayed idle since the previous trim, so a burst
 * does not keep its memory. Finalizers of every thread's Buffers may run on their own thread, so
 * the lists are guarded by one mutex.
 *
 * Process exit: libzmq keeps sending queued messages during the linger, after Node has begun
 * tearing the process down, and teardown runs the finalizer of every external Buffer still alive,
 * those zeromq.js holds included. A chunk given back then would have its first bytes overwritten
 * by the free-list link (or be unmapped) while libzmq still reads it. So JavaScript calls
 * `retire()` on the process's 'exit' event: from then on chunks given back are left as they are
 * (the process is ending) and `copy()` makes no more copies.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SHIFT 12 /* smallest class: 4 KiB */
#define MAX_SHIFT 30 /* largest class: 1 GiB; larger copies are left to JavaScript */
#define N_CLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define MAP_SHIFT 18          /* classes from 256 KiB up are mapped, not malloc'ed */
#define REGION ((size_t)2 << 20) /* a huge page: the unit such chunks are mapped in */

typedef struct chunk {
  struct chunk *next; /* the free list runs through the idle chunks themselves */
} chunk_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static chunk_t *idle[N_CLASSES];
static size_t idle_count[N_CLASSES]; /* chunks on each free list */
static size_t idle_low[N_CLASSES];   /* fewest chunks on each list since the last trim */
static double idle_bytes = 0;       /* bytes waiting on the free lists */
static double idle_cap = 256 << 20; /* most bytes kept waiting */
static double reused = 0;           /* copies made into a chunk from a free list */
static double fresh = 0;            /* copies made into a newly allocated chunk */
static double lent_bytes = 0;       /* chunk bytes in Buffers not yet finalized */
static uint64_t uses = 0;           /* copies made, as a clock */
static uint64_t last_use[N_CLASSES]; /* `uses` at each class's latest copy */
static int retired = 0;             /* the process is exiting: chunks given back stay untouched */

static int class_of(size_t n) {
  int shift = MIN_SHIFT;
  while (((size_t)1 << shift) < n) shift++;
  return shift - MIN_SHIFT;
}

static size_t cap_of(int cls) { return (size_t)1 << (cls + MIN_SHIFT); }
static int is_mapped(int cls) { return cls + MIN_SHIFT >= MAP_SHIFT; }

static void chunk_free(void *mem, int cls) {
  if (mem == NULL) return;
  if (is_mapped(cls)) munmap(mem, cap_of(cls));
  else free(mem);
}

/* Takes up to `n` chunks off list `cls` onto `drop` (lock held). */
static chunk_t *take(int cls, size_t n, chunk_t *drop) {
  while (n-- > 0 && idle[cls] != NULL) {
    chunk_t *c = idle[cls];
    idle[cls] = c->next;
    idle_count[cls]--;
    idle_bytes -= (double)cap_of(cls);
    c->next = drop;
    drop = c;
  }
  return drop;
}

static void free_all(chunk_t **drop) {
  for (int cls = 0; cls < N_CLASSES; cls++) {
    while (drop[cls] != NULL) {
      chunk_t *next = drop[cls]->next;
      chunk_free(drop[cls], cls);
      drop[cls] = next;
    }
  }
}

/*
 * Puts an idle chunk on its free list (lock held). Where the cap has no room, idle chunks of the
 * classes copies used less recently than this one make room (onto `drop`, freed by the caller
 * after the lock): a size the sender moved on from must not keep the size it sends now from
 * being reused. Returns the chunk when it still does not fit, NULL once kept.
 */
static void *keep(void *mem, int cls, chunk_t **drop) {
  double cap = (double)cap_of(cls);
  while (idle_bytes + cap > idle_cap) {
    int victim = -1;
    for (int d = 0; d < N_CLASSES; d++) {
      if (d != cls && idle[d] != NULL && last_use[d] < last_use[cls] && (victim < 0 || last_use[d] < last_use[victim])) victim = d;
    }
    if (victim < 0) return mem;
    drop[victim] = take(victim, 1, drop[victim]);
    if (idle_low[victim] > idle_count[victim]) idle_low[victim] = idle_count[victim];
  }
  chunk_t *c = (chunk_t *)mem;
  c->next = idle[cls];
  idle[cls] = c;
  idle_count[cls]++;
  idle_bytes += cap;
  return NULL;
}

/*
 * A new chunk of class `cls` (lock not held). A mapped class gets a 2 MiB-aligned mapping (or
 * the chunk's own size when larger) marked for huge pages; the chunks after the first go onto
 * the free list, and are unmapped at once where the idle cap has no room for them.
 */
static void *chunk_new(int cls) {
  size_t cap = cap_of(cls);
  if (!is_mapped(cls)) return malloc(cap);
  size_t region = cap > REGION ? cap : REGION;
  size_t len = region + REGION; /* room to align the start to a huge-page boundary */
  char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  char *start = (char *)(((uintptr_t)raw + REGION - 1) & ~(uintptr_t)(REGION - 1));
  if (start > raw) munmap(raw, (size_t)(start - raw));
  size_t tail = (size_t)((raw + len) - (start + region));
  if (tail > 0) munmap(start + region, tail);
#ifdef MADV_HUGEPAGE
  madvise(start, region, MADV_HUGEPAGE); /* advice only: without huge pages it still works */
#endif
  chunk_t *drop[N_CLASSES] = {NULL};
  for (size_t off = cap; off < region; off += cap) {
    pthread_mutex_lock(&lock);
    void *left = keep(start + off, cls, drop);
    pthread_mutex_unlock(&lock);
    if (left != NULL) munmap(left, cap);
  }
  free_all(drop);
  return start;
}

static void give_back(napi_env env, void *data, void *hint) {
  (void)env;
  int cls = (int)(intptr_t)hint;
  chunk_t *drop[N_CLASSES] = {NULL};
  pthread_mutex_lock(&lock);
  lent_bytes -= (double)cap_of(cls);
  if (retired) {
    /* Teardown: libzmq may still be sending from this chunk during the linger (see the top). */
    pthread_mutex_unlock(&lock);
    return;
  }
  data = keep(data, cls, drop);
  pthread_mutex_unlock(&lock);
  chunk_free(data, cls);
  free_all(drop);
}

/* copy(view: Uint8Array): Buffer | undefined (undefined: too large, or no memory) */
static napi_value copy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result = NULL;
  napi_typedarray_type type;
  size_t length;
  void *src;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1) goto bad;
  if (napi_get_typedarray_info(env, arg, &type, &length, &src, NULL, NULL) != napi_ok || type != napi_uint8_array) goto bad;
  if (length == 0 || length > ((size_t)1 << MAX_SHIFT)) goto none;
  int cls = class_of(length);
  size_t cap = (size_t)1 << (cls + MIN_SHIFT);
  pthread_mutex_lock(&lock);
  if (retired) {
    pthread_mutex_unlock(&lock);
    goto none;
  }
  last_use[cls] = ++uses;
  chunk_t *c = idle[cls];
  if (c != NULL) {
    idle[cls] = c->next;
    if (--idle_count[cls] < idle_low[cls]) idle_low[cls] = idle_count[cls];
    idle_bytes -= (double)cap;
    reused++;
  } else {
    fresh++;
  }
  lent_bytes += (double)cap;
  pthread_mutex_unlock(&lock);
  void *mem = c != NULL ? (void *)c : chunk_new(cls);
  if (mem == NULL) {
    pthread_mutex_lock(&lock);
    lent_bytes -= (double)cap;
    pthread_mutex_unlock(&lock);
    goto none;
  }
  memcpy(mem, src, length);
  if (napi_create_external_buffer(env, length, mem, give_back, (void *)(intptr_t)cls, &result) != napi_ok) {
    give_back(env, mem, (void *)(intptr_t)cls);
    goto none;
  }
  return result;
bad:
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "copy expects a Uint8Array");
  return NULL;
none:
  napi_get_undefined(env, &result);
  return result;
}

static napi_value set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
  return obj;
}

/* stats(): { reused, fresh, idleBytes, lentBytes, idleCap } */
static napi_value stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj;
  napi_create_object(env, &obj);
  pthread_mutex_lock(&lock);
  double r = reused, f = fresh, i = idle_bytes, l = lent_bytes, c = idle_cap;
  pthread_mutex_unlock(&lock);
  set_num(env, obj, "reused", r);
  set_num(env, obj, "fresh", f);
  set_num(env, obj, "idleBytes", i);
  set_num(env, obj, "lentBytes", l);
  return set_num(env, obj, "idleCap", c);
}

/* trim(): frees the chunks no copy needed since the previous trim (each list's low-water mark) */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  chunk_t *drop[N_CLASSES] = {NULL};
  pthread_mutex_lock(&lock);
  for (int cls = 0; cls < N_CLASSES; cls++) {
    drop[cls] = take(cls, idle_low[cls], NULL);
    idle_low[cls] = idle_count[cls];
  }
  pthread_mutex_unlock(&lock);
  free_all(drop);
  return NULL;
}

/* retire(): the process is exiting; see the top of this file */
static napi_value retire(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  pthread_mutex_lock(&lock);
  retired = 1;
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* setIdleCap(bytes): most bytes kept on the free lists; chunks beyond it are freed now */
static napi_value set_idle_cap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  double v;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_double(env, arg, &v) != napi_ok || !(v >= 0)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "setIdleCap expects a number of bytes >= 0");
    return NULL;
  }
  chunk_t *drop[N_CLASSES] = {NULL};
  pthread_mutex_lock(&lock);
  idle_cap = v;
  for (int cls = N_CLASSES - 1; cls >= 0 && idle_bytes > idle_cap; cls--) {
    while (idle[cls] != NULL && idle_bytes > idle_cap) drop[cls] = take(cls, 1, drop[cls]);
    if (idle_low[cls] > idle_count[cls]) idle_low[cls] = idle_count[cls];
  }
  pthread_mutex_unlock(&lock);
  free_all(drop);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"copy", NULL, copy, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"setIdleCap", NULL, set_idle_cap, NULL, NULL, NULL, napi_default, NULL},
      {"trim", NULL, trim, NULL, NULL, NULL, napi_default, NULL},
      {"retire", NULL, retire, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
