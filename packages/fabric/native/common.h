// What every part of the addon shares: operation contexts, completion events, the process-wide shm
// lock, staging buffers, and the libfabric resources an endpoint holds.
#pragma once
#include <napi.h>
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sched.h>
#include <unordered_map>
#include <vector>

namespace lbm_fabric {

inline int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

enum Kind : int { K_SEND = 1, K_RECV = 2, K_META = 3 };

struct Op {
  struct fi_context2 ctx;  // first: the provider hands this pointer back as op_context
  int kind;
  uint32_t id;
  uint8_t* buf;  // owned (malloc) unless `borrowed`
  size_t len;
  bool borrowed;
  struct fid_mr* mr;  // exposures: the registration peers read through
  bool read;          // an fi_read: the CQ entry's len is not set for RMA, the op's is the length
  size_t cap;         // a staging buffer of this size class (its mr kept with it), or 0
};

struct Event {
  int kind;
  uint32_t id;
  int err;
  size_t len;
  uint8_t* buf;  // malloc'd bytes handed to JavaScript (meta copy, or a receive's own buffer)
};

// What the progress thread and the JavaScript callback share; outlives the endpoint if a batch
// is still queued when it closes.
struct Shared {
  std::mutex mu;
  std::vector<Event> events;
  bool scheduled = false;
};

// libfabric 1.17's shm provider keeps process-wide state (the list of this process's endpoints,
// and direct pointers into the regions of peers in the same process) that endpoints of
// different domains reach without a common lock: closing one endpoint while another's progress
// thread reads its CQ crashed (pthread_spin_trylock on freed memory). Every shm call of every
// endpoint in the process is therefore made under this one mutex; other providers never take it.
// It records since when it is held, so the reaper (reaper.cc) can tell a call stuck inside the
// provider (spinning on a lock a killed peer held) from an ordinary one (microseconds).
class ShmMutex {
 public:
  void lock() {
    mu_.lock();
    since_.store(nowNs(), std::memory_order_relaxed);
  }
  void unlock() {
    since_.store(0, std::memory_order_relaxed);
    mu_.unlock();
  }
  // When the current holder took it (steady clock, ns), or 0 when free.
  int64_t heldSince() const { return since_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::atomic<int64_t> since_{0};
};
extern ShmMutex g_shmMu;

class ShmGuard {
 public:
  explicit ShmGuard(bool on) : on_(on) {
    if (on_) g_shmMu.lock();
  }
  ~ShmGuard() {
    if (on_) g_shmMu.unlock();
  }
  ShmGuard(const ShmGuard&) = delete;
  ShmGuard& operator=(const ShmGuard&) = delete;

 private:
  bool on_;
};

// A staging buffer behind copied exposures: a power-of-two size class of at least STAGE_MIN bytes,
// registered once for remote reads when first allocated. A released one is kept, registration and
// all, for the next copy of its class (up to the endpoint's stageKeepBytes), so a stream of copied
// bulks neither maps, faults in, nor registers memory per message.
constexpr size_t STAGE_MIN = 16 * 1024;
// Whole pages of their own, prefaulted and marked MADV_DONTFORK: a fork() (every child process
// Node spawns) would otherwise write-protect them in this process, and the next copy into each
// would fault on every page (5 ms per MiB measured here), as registered memory of RDMA stacks is.
uint8_t* stageAlloc(size_t cap);
void stageFree(uint8_t* p, size_t cap);
struct Staged {
  uint8_t* buf;
  size_t cap;
  struct fid_mr* mr;
};

// What an endpoint holds of libfabric, closed in the order libfabric wants.
struct Resources {
  struct fi_info* info = nullptr;
  struct fid_fabric* fabric = nullptr;
  struct fid_domain* domain = nullptr;
  struct fid_av* av = nullptr;
  struct fid_cq* cq = nullptr;
  struct fid_ep* ep = nullptr;
  std::vector<Op*> ops;  // posted operations, exposures and metadata slots
  std::vector<Staged> staged;        // kept staging buffers (their registrations closed first)
  std::vector<struct fid_mr*> mrs;   // region registrations

  void Close();
};

// Closed shm endpoints kept until the process has no open one (guarded by g_shmMu).
extern std::vector<Resources> g_shmGrave;
extern int g_shmOpen;

// The bytes of a Uint8Array (also over a SharedArrayBuffer); false for anything else.
bool viewOf(napi_env env, napi_value v, uint8_t** data, size_t* len);
// Argument `i` as for viewOf; false after throwing a TypeError "`what` must be a Uint8Array".
bool viewArg(const Napi::CallbackInfo& info, size_t i, const char* what, uint8_t** data, size_t* len);
void freeEvents(std::vector<Event>& evs);
// Completions as JavaScript takes them: [kind, id, err, len, buffer | undefined] repeated; each
// event's buffer passes to the returned array.
Napi::Array eventsToJs(Napi::Env env, std::vector<Event>& evs);

// The reaper (reaper.cc): shm regions an endpoint watches (its own and its peers'), so that a lock
// a killed process left held in one of them is released instead of spun on forever.
void reaperWatch(const void* owner, const std::string& name);
void reaperForget(const void* owner);
// Whether the process owning the shm region `name` is alive (false when the region is gone).
bool regionOwnerAlive(const std::string& name);

}  // namespace lbm_fabric
