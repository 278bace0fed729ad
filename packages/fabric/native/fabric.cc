// Lightbeam's libfabric binding: one reliable-datagram (FI_EP_RDM) endpoint per object, driven by
// a native progress thread. JavaScript posts operations; the thread reads the completion queue
// and hands completions to the JavaScript thread in batches through a thread-safe function.
//
// Why a thread and not uv_poll on the CQ's fd: waiting on the fd with fi_trywait crashed
// tcp;ofi_rxm on the first large message and the shm provider has no fd at all (FI_WAIT_FD is
// ENOSYS). The thread polls while there is traffic, then sleeps on a condition variable with a
// growing timeout (at most `idleMaxUs`), so an idle endpoint costs a few hundred cheap wake-ups a
// second and never wakes the event loop. Posting from JavaScript wakes it at once.
//
// Operation contexts (Op) live until their completion arrives or the endpoint is closed: the
// provider owns them in between. Every buffer a send reads is a private copy, freed on completion.
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

namespace {

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
  bool pooled;        // buf came from poolAlloc
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
std::mutex g_shmMu;

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

// Copies of exposed bulks are large and short-lived: malloc would map and unmap them each time
// (page faults on every byte). Freed ones of 64 KiB and up are kept for reuse, by power-of-two
// size, at most 16 per size.
std::mutex g_poolMu;
std::unordered_map<size_t, std::vector<uint8_t*>> g_pool;
constexpr size_t POOL_MIN = 64 * 1024;

size_t poolClass(size_t n) {
  size_t c = POOL_MIN;
  while (c < n) c <<= 1;
  return c;
}

uint8_t* poolAlloc(size_t n) {
  if (n < POOL_MIN) return static_cast<uint8_t*>(std::malloc(n ? n : 1));
  size_t c = poolClass(n);
  {
    std::lock_guard<std::mutex> lk(g_poolMu);
    auto& v = g_pool[c];
    if (!v.empty()) {
      uint8_t* p = v.back();
      v.pop_back();
      return p;
    }
  }
  return static_cast<uint8_t*>(std::malloc(c));
}

void poolFree(uint8_t* p, size_t n) {
  if (n < POOL_MIN) {
    std::free(p);
    return;
  }
  std::lock_guard<std::mutex> lk(g_poolMu);
  auto& v = g_pool[poolClass(n)];
  if (v.size() < 16) v.push_back(p);
  else std::free(p);
}

// What an endpoint holds of libfabric, closed in the order libfabric wants.
struct Resources {
  struct fi_info* info = nullptr;
  struct fid_fabric* fabric = nullptr;
  struct fid_domain* domain = nullptr;
  struct fid_av* av = nullptr;
  struct fid_cq* cq = nullptr;
  struct fid_ep* ep = nullptr;
  std::vector<Op*> ops;  // posted operations, exposures and metadata slots

  void Close() {
    if (ep) fi_close(&ep->fid);
    for (Op* op : ops)
      if (op->mr) fi_close(&op->mr->fid);
    if (av) fi_close(&av->fid);
    if (cq) fi_close(&cq->fid);
    if (domain) fi_close(&domain->fid);
    if (fabric) fi_close(&fabric->fid);
    if (info) fi_freeinfo(info);
    for (Op* op : ops) {
      if (op->pooled) poolFree(op->buf, op->len);
      else if (!op->borrowed) std::free(op->buf);
      delete op;
    }
    ops.clear();
  }
};

// Closed shm endpoints kept until the process has no open one (guarded by g_shmMu).
std::vector<Resources> g_shmGrave;
int g_shmOpen = 0;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool viewOf(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type t;
  size_t length = 0;
  void* d = nullptr;
  napi_value ab;
  size_t off = 0;
  // napi_get_typedarray_info works on SharedArrayBuffer views (Napi::TypedArray::ArrayBuffer throws on Node 20).
  if (napi_get_typedarray_info(env, v, &t, &length, &d, &ab, &off) != napi_ok) return false;
  if (t != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(d);
  *len = length;
  return true;
}

void freeEvents(std::vector<Event>& evs) {
  for (auto& e : evs) std::free(e.buf);
  evs.clear();
}

class Endpoint : public Napi::ObjectWrap<Endpoint> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Endpoint",
                       {
                           InstanceMethod("name", &Endpoint::Name),
                           InstanceMethod("provider", &Endpoint::Provider),
                           InstanceMethod("postSend", &Endpoint::PostSend),
                           InstanceMethod("postRecv", &Endpoint::PostRecv),
                           InstanceMethod("rawName", &Endpoint::RawName),
                           InstanceMethod("insertPeer", &Endpoint::InsertPeer),
                           InstanceMethod("expose", &Endpoint::Expose),
                           InstanceMethod("unexpose", &Endpoint::Unexpose),
                           InstanceMethod("postRead", &Endpoint::PostRead),
                           InstanceMethod("cancel", &Endpoint::Cancel),
                           InstanceMethod("ref", &Endpoint::Ref),
                           InstanceMethod("setBusy", &Endpoint::SetBusy),
                           InstanceMethod("unref", &Endpoint::Unref),
                           InstanceMethod("close", &Endpoint::Close),
                       });
  }

  Endpoint(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Endpoint>(info), shared_(std::make_shared<Shared>()) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "Endpoint options must be an object").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    std::string prov = o.Get("provider").ToString().Utf8Value();
    std::string node = o.Has("node") && o.Get("node").IsString() ? o.Get("node").ToString().Utf8Value() : "";
    std::string service = o.Has("service") && o.Get("service").IsString() ? o.Get("service").ToString().Utf8Value() : "";
    server_ = o.Get("server").ToBoolean().Value();
    metaBytes_ = o.Get("metaBytes").ToNumber().Uint32Value();
    uint32_t metaSlots = o.Get("metaSlots").ToNumber().Uint32Value();
    idleMaxUs_ = o.Has("idleMaxUs") ? o.Get("idleMaxUs").ToNumber().Uint32Value() : 2000;
    spinUs_ = o.Has("spinUs") ? o.Get("spinUs").ToNumber().Uint32Value() : 200;
    if (!o.Get("onEvents").IsFunction()) {
      Napi::TypeError::New(env, "Endpoint options.onEvents must be a function").ThrowAsJavaScriptException();
      return;
    }

    shm_ = prov.compare(0, 3, "shm") == 0;
    ShmGuard guard(shm_);
    struct fi_info* hints = fi_allocinfo();
    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = FI_MSG | FI_TAGGED | FI_RMA | FI_READ | FI_REMOTE_READ;
    hints->mode = FI_CONTEXT | FI_CONTEXT2;
    hints->domain_attr->threading = FI_THREAD_SAFE;
    hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
    hints->tx_attr->msg_order = FI_ORDER_SAS;
    hints->rx_attr->msg_order = FI_ORDER_SAS;
    hints->fabric_attr->prov_name = strdup(prov.c_str());
    const char* n = node.empty() ? nullptr : node.c_str();
    const char* s = service.empty() ? nullptr : service.c_str();
    int rc = fi_getinfo(FI_VERSION(1, 9), n, s, server_ ? FI_SOURCE : 0, hints, &info_);
    fi_freeinfo(hints);
    if (rc != 0) { Fail(env, "fi_getinfo", rc); return; }
    if ((rc = fi_fabric(info_->fabric_attr, &fabric_, nullptr))) { Fail(env, "fi_fabric", rc); return; }
    if ((rc = fi_domain(fabric_, info_, &domain_, nullptr))) { Fail(env, "fi_domain", rc); return; }
    struct fi_av_attr av{};
    av.type = FI_AV_TABLE;
    if ((rc = fi_av_open(domain_, &av, &av_, nullptr))) { Fail(env, "fi_av_open", rc); return; }
    struct fi_cq_attr cq{};
    cq.format = FI_CQ_FORMAT_TAGGED;
    cq.size = 4096;
    // A CQ the progress thread can block on (fi_cq_sread: the provider's own wait on its sockets,
    // woken early by fi_cq_signal when JavaScript posts). The shm provider has no wait object:
    // there the thread polls, then sleeps (see Run).
    cq.wait_obj = FI_WAIT_UNSPEC;
    cq.wait_cond = FI_CQ_COND_NONE;
    // shm accepts FI_WAIT_UNSPEC but waits by spinning: poll and sleep instead.
    bool shm = std::strncmp(info_->fabric_attr->prov_name, "shm", 3) == 0;
    if (!shm && fi_cq_open(domain_, &cq, &cq_, nullptr) == 0) {
      waitable_ = true;
    } else {
      cq.wait_obj = FI_WAIT_NONE;
      if ((rc = fi_cq_open(domain_, &cq, &cq_, nullptr))) { Fail(env, "fi_cq_open", rc); return; }
    }
    if ((rc = fi_endpoint(domain_, info_, &ep_, nullptr))) { Fail(env, "fi_endpoint", rc); return; }
    if ((rc = fi_ep_bind(ep_, &av_->fid, 0))) { Fail(env, "fi_ep_bind(av)", rc); return; }
    if ((rc = fi_ep_bind(ep_, &cq_->fid, FI_TRANSMIT | FI_RECV))) { Fail(env, "fi_ep_bind(cq)", rc); return; }
    if (server_ && n != nullptr && std::strcmp(info_->fabric_attr->prov_name, "shm") == 0) {
      // shm names an endpoint "<node>:<uid>:<endpoint index in this process>"; a server takes
      // exactly the name it was given, so a client in another process can find it.
      std::string want = node;
      if ((rc = fi_setname(&ep_->fid, const_cast<char*>(want.c_str()), want.size() + 1))) { Fail(env, "fi_setname", rc); return; }
    }
    if ((rc = fi_enable(ep_))) { Fail(env, "fi_enable", rc); return; }
    if (!server_ && info_->dest_addr != nullptr) {
      if (fi_av_insert(av_, info_->dest_addr, 1, &peer_, 0, nullptr) != 1) { Fail(env, "fi_av_insert", -FI_EADDRNOTAVAIL); return; }
    }
    for (uint32_t i = 0; i < metaSlots; i++) {
      Op* op = new Op{};
      op->kind = K_META;
      op->id = i;
      op->len = metaBytes_;
      op->buf = static_cast<uint8_t*>(std::malloc(metaBytes_ ? metaBytes_ : 1));
      slots_.push_back(op);
      if ((rc = static_cast<int>(fi_recv(ep_, op->buf, op->len, nullptr, FI_ADDR_UNSPEC, &op->ctx)))) { Fail(env, "fi_recv", rc); return; }
    }
    if (shm_) {
      counted_ = true;
      g_shmOpen++;
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, o.Get("onEvents").As<Napi::Function>(), "lightbeam-fabric", 0, 1);
    hasTsfn_ = true;
    open_ = true;
    lastActivity_.store(nowNs());
    thread_ = std::thread([this] { Run(); });
  }

  ~Endpoint() override { Teardown(true); }

 private:
  void Fail(Napi::Env env, const char* what, int rc) {
    const char* msg = fi_strerror(rc < 0 ? -rc : rc);
    Teardown(false);
    Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + msg);
    e.Set("errno", Napi::Number::New(env, rc < 0 ? -rc : rc));
    e.ThrowAsJavaScriptException();
  }

  // Runs on the progress thread only.
  void Run() {
    struct fi_cq_tagged_entry ents[32];
    int64_t backoffUs = 10;
    while (!stop_.load(std::memory_order_acquire)) {
      // Busy (set by JavaScript while reads or exposures are outstanding): a polling provider
      // (shm) moves their bytes only as fast as both sides poll, so keep polling, yielding.
      bool idle = nowNs() - lastActivity_.load(std::memory_order_relaxed) >= static_cast<int64_t>(spinUs_) * 1000 &&
                  (waitable_ || !busy_.load(std::memory_order_relaxed));
      ssize_t n;
      std::unique_lock<std::mutex> shmLock(g_shmMu, std::defer_lock);
      if (shm_) shmLock.lock();
      if (waitable_ && idle) {
        sleeping_.store(true, std::memory_order_seq_cst);
        n = fi_cq_sread(cq_, ents, 32, nullptr, static_cast<int>(idleMaxUs_ / 1000 > 0 ? idleMaxUs_ / 1000 : 1));
        sleeping_.store(false, std::memory_order_relaxed);
      } else {
        n = fi_cq_read(cq_, ents, 32);
      }
      if (n > 0) {
        for (ssize_t i = 0; i < n; i++) Complete(static_cast<Op*>(ents[i].op_context), 0, ents[i].len);
        if (shmLock.owns_lock()) shmLock.unlock();
        Flush();
        backoffUs = 10;
        lastActivity_.store(nowNs(), std::memory_order_relaxed);
        continue;
      }
      if (n == -FI_EAVAIL) {
        struct fi_cq_err_entry e{};
        if (fi_cq_readerr(cq_, &e, 0) > 0 && e.op_context != nullptr) Complete(static_cast<Op*>(e.op_context), e.err ? e.err : FI_EIO, e.len);
        if (shmLock.owns_lock()) shmLock.unlock();
        Flush();
        continue;
      }
      RepostSlots();
      if (shmLock.owns_lock()) shmLock.unlock();
      {
        std::vector<uint32_t> zr;
        {
          std::lock_guard<std::mutex> lk(kickMu_);
          zr.swap(zeroReads_);
        }
        if (!zr.empty()) {
          for (uint32_t id : zr) pending_.push_back(Event{K_RECV, id, 0, 0, nullptr});
          Flush();
          continue;
        }
      }
      if (waitable_) {
        // Not idle: poll, yielding the core between polls (two processes on two cores each have
        // a JavaScript thread and this one). Idle: the next turn blocks in fi_cq_sread.
        if (!idle) sched_yield();
        continue;
      }
      if (!idle) {
        sched_yield();
        continue;
      }
      std::unique_lock<std::mutex> lk(kickMu_);
      if (!kicked_) kickCv_.wait_for(lk, std::chrono::microseconds(backoffUs));
      if (kicked_) {
        kicked_ = false;
        backoffUs = 10;
      } else if (backoffUs < idleMaxUs_) {
        backoffUs = backoffUs * 2 > idleMaxUs_ ? idleMaxUs_ : backoffUs * 2;
      }
    }
  }

  // A JavaScript post happened: the provider needs progress now.
  void Kick() {
    lastActivity_.store(nowNs(), std::memory_order_relaxed);
    if (waitable_ && cq_ != nullptr) {
      // Ends an fi_cq_sread in progress so the thread polls again (a thread that is polling sees
      // the new activity time and keeps polling).
      if (sleeping_.load(std::memory_order_seq_cst) || stop_.load(std::memory_order_relaxed)) fi_cq_signal(cq_);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(kickMu_);
      kicked_ = true;
    }
    kickCv_.notify_one();
  }

  void Complete(Op* op, int err, size_t len) {
    if (op->kind == K_META) {
      Event e{K_META, op->id, err, len, nullptr};
      if (err == 0 || err == FI_ETRUNC) {
        size_t n = len > op->len ? op->len : len;
        e.buf = static_cast<uint8_t*>(std::malloc(n ? n : 1));
        std::memcpy(e.buf, op->buf, n);
        e.len = n;
      }
      pending_.push_back(e);
      if (err != FI_ECANCELED) {
        ssize_t rc = fi_recv(ep_, op->buf, op->len, nullptr, FI_ADDR_UNSPEC, &op->ctx);
        if (rc != 0) starved_.push_back(op);
      }
      return;
    }
    {
      std::lock_guard<std::mutex> lk(opsMu_);
      ops_.erase(op->id);
    }
    Event e{op->kind, op->id, err, op->read && err == 0 ? op->len : len, nullptr};
    if (op->kind == K_RECV && !op->borrowed) e.buf = op->buf;  // the receive's own buffer goes to JavaScript
    else if (!op->borrowed) std::free(op->buf);
    pending_.push_back(e);
    delete op;
  }

  void RepostSlots() {
    while (!starved_.empty()) {
      Op* op = starved_.back();
      if (fi_recv(ep_, op->buf, op->len, nullptr, FI_ADDR_UNSPEC, &op->ctx) != 0) return;
      starved_.pop_back();
    }
  }

  // Hands the completions gathered so far to JavaScript: one call per batch, none while one is queued.
  void Flush() {
    if (pending_.empty()) return;
    bool call = false;
    {
      std::lock_guard<std::mutex> lk(shared_->mu);
      for (auto& e : pending_) shared_->events.push_back(e);
      if (!shared_->scheduled) call = shared_->scheduled = true;
    }
    pending_.clear();
    if (!call) return;
    auto* data = new std::shared_ptr<Shared>(shared_);
    napi_status st = tsfn_.NonBlockingCall(data, [](Napi::Env env, Napi::Function cb, std::shared_ptr<Shared>* d) {
      std::shared_ptr<Shared> sh = *d;
      delete d;
      std::vector<Event> evs;
      {
        std::lock_guard<std::mutex> lk(sh->mu);
        sh->scheduled = false;
        evs.swap(sh->events);
      }
      if (static_cast<napi_env>(env) == nullptr || cb.IsEmpty()) {
        freeEvents(evs);
        return;
      }
      Napi::Array arr = Napi::Array::New(env, evs.size() * 5);
      uint32_t k = 0;
      for (auto& e : evs) {
        arr.Set(k++, Napi::Number::New(env, e.kind));
        arr.Set(k++, Napi::Number::New(env, e.id));
        arr.Set(k++, Napi::Number::New(env, e.err));
        arr.Set(k++, Napi::Number::New(env, static_cast<double>(e.len)));
        if (e.buf != nullptr) {
          arr.Set(k++, Napi::Buffer<uint8_t>::New(env, e.buf, e.len, [](Napi::Env, uint8_t* p) { std::free(p); }));
          e.buf = nullptr;
        } else {
          arr.Set(k++, env.Undefined());
        }
      }
      cb.Call({arr});
    });
    if (st != napi_ok) {
      delete data;
      std::lock_guard<std::mutex> lk(shared_->mu);
      shared_->scheduled = false;
    }
  }

  Napi::Value Name(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return env.Null();
    char buf[512];
    size_t len = sizeof buf;
    int rc = fi_getname(&ep_->fid, buf, &len);
    if (rc != 0) return env.Null();
    char str[512];
    size_t slen = sizeof str;
    fi_av_straddr(av_, buf, str, &slen);
    return Napi::String::New(env, str);
  }

  Napi::Value Provider(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), info_ && info_->fabric_attr->prov_name ? info_->fabric_attr->prov_name : "");
  }

  // rawName(): the endpoint's address as bytes, for a peer's insertPeer.
  Napi::Value RawName(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return env.Null();
    char buf[512];
    size_t len = sizeof buf;
    if (fi_getname(&ep_->fid, buf, &len) != 0) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(buf), len);
  }

  // insertPeer(bytes): adds a peer's raw address to the address vector; its fi_addr, or -errno.
  Napi::Value InsertPeer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, -FI_ESHUTDOWN);
    uint8_t* data;
    size_t len;
    if (!viewOf(env, info[0], &data, &len) || len == 0 || len > 512) return Napi::Number::New(env, -FI_EINVAL);
    // The address must stay valid for fi_av_insert only; copy it with a terminator (FI_ADDR_STR).
    std::vector<char> a(data, data + len);
    a.push_back('\0');
    fi_addr_t out = FI_ADDR_NOTAVAIL;
    ShmGuard guard(shm_);
    int n = fi_av_insert(av_, a.data(), 1, &out, 0, nullptr);
    if (n != 1) return Napi::Number::New(env, -FI_EADDRNOTAVAIL);
    return Napi::Number::New(env, static_cast<double>(out));
  }

  // expose(id, bytes): registers a private copy of `bytes` for remote reads until unexpose(id);
  // returns [addrHi, addrLo, keyHi, keyLo] (addr is the offset a peer passes to fi_read), or an errno.
  Napi::Value Expose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
    uint32_t id = info[0].ToNumber().Uint32Value();
    uint8_t* data;
    size_t len;
    if (!viewOf(env, info[1], &data, &len)) {
      Napi::TypeError::New(env, "expose bytes must be a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    bool copy = info.Length() < 3 || info[2].ToBoolean().Value();
    Op* op = new Op{};
    op->kind = K_SEND;
    op->id = id;
    op->len = len;
    if (copy) {
      op->buf = poolAlloc(len);
      op->pooled = true;
      if (op->buf == nullptr) {
        delete op;
        return Napi::Number::New(env, FI_ENOMEM);
      }
      std::memcpy(op->buf, data, len);
    } else {
      // The caller's own bytes, registered in place: JavaScript keeps them referenced until unexpose.
      op->buf = data;
      op->borrowed = true;
    }
    ShmGuard guard(shm_);
    int rc = fi_mr_reg(domain_, op->buf, len ? len : 1, FI_REMOTE_READ, 0, id, 0, &op->mr, nullptr);
    if (rc == 0 && (info_->domain_attr->mr_mode & FI_MR_ENDPOINT)) {
      rc = fi_mr_bind(op->mr, &ep_->fid, 0);
      if (rc == 0) rc = fi_mr_enable(op->mr);
    }
    if (rc != 0) {
      if (op->mr) fi_close(&op->mr->fid);
      if (op->pooled) poolFree(op->buf, op->len);
      delete op;
      return Napi::Number::New(env, rc < 0 ? -rc : rc);
    }
    uint64_t addr = (info_->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? reinterpret_cast<uint64_t>(op->buf) : 0;
    uint64_t key = fi_mr_key(op->mr);
    {
      std::lock_guard<std::mutex> lk(opsMu_);
      exposed_[id] = op;
    }
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, static_cast<uint32_t>(addr >> 32)));
    out.Set(1u, Napi::Number::New(env, static_cast<uint32_t>(addr)));
    out.Set(2u, Napi::Number::New(env, static_cast<uint32_t>(key >> 32)));
    out.Set(3u, Napi::Number::New(env, static_cast<uint32_t>(key)));
    return out;
  }

  // unexpose(id): the peer has read (or dropped) it: deregister and free the copy.
  Napi::Value Unexpose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = info[0].ToNumber().Uint32Value();
    Op* op = nullptr;
    {
      std::lock_guard<std::mutex> lk(opsMu_);
      auto it = exposed_.find(id);
      if (it == exposed_.end()) return Napi::Boolean::New(env, false);
      op = it->second;
      exposed_.erase(it);
    }
    {
      ShmGuard guard(shm_);
      if (op->mr) fi_close(&op->mr->fid);
    }
    if (op->pooled) poolFree(op->buf, op->len);
    delete op;
    return Napi::Boolean::New(env, true);
  }

  // A receive-side operation into the caller's Uint8Array info[1] (borrowed: JavaScript keeps it
  // alive until the completion) or, when info[1] is not one, into a buffer of its own of info[2]
  // bytes handed over on completion. nullptr when that buffer cannot be had.
  Op* RecvOp(napi_env env, const Napi::CallbackInfo& info, uint32_t id) {
    Op* op = new Op{};
    op->kind = K_RECV;
    op->id = id;
    uint8_t* data = nullptr;
    size_t len = 0;
    if (viewOf(env, info[1], &data, &len)) {
      op->buf = data;
      op->len = len;
      op->borrowed = true;
      return op;
    }
    op->len = static_cast<size_t>(info[2].ToNumber().Int64Value());
    op->buf = static_cast<uint8_t*>(std::malloc(op->len ? op->len : 1));
    if (op->buf == nullptr) {
      delete op;
      return nullptr;
    }
    return op;
  }

  // Operations in flight by id, so completions (on the progress thread) and cancel find them.
  void Track(Op* op) {
    std::lock_guard<std::mutex> lk(opsMu_);
    ops_[op->id] = op;
  }

  void Untrack(uint32_t id) {
    std::lock_guard<std::mutex> lk(opsMu_);
    ops_.erase(id);
  }

  // postRead(id, target | null, len, peer, addrHi, addrLo, keyHi, keyLo): a one-sided read of a
  // peer's exposure into `target` (kept alive by the caller) or a buffer of its own; completes as a receive.
  Napi::Value PostRead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
    uint32_t id = info[0].ToNumber().Uint32Value();
    Op* op = RecvOp(env, info, id);
    if (op == nullptr) return Napi::Number::New(env, FI_ENOMEM);
    op->read = true;
    fi_addr_t peer = static_cast<fi_addr_t>(info[3].ToNumber().Int64Value());
    uint64_t addr = (static_cast<uint64_t>(info[4].ToNumber().Uint32Value()) << 32) | info[5].ToNumber().Uint32Value();
    uint64_t key = (static_cast<uint64_t>(info[6].ToNumber().Uint32Value()) << 32) | info[7].ToNumber().Uint32Value();
    Track(op);
    ShmGuard guard(shm_);
    ssize_t rc = op->len == 0 ? 0 : fi_read(ep_, op->buf, op->len, nullptr, peer, addr, key, &op->ctx);
    if (rc != 0 || op->len == 0) {
      Untrack(id);
      if (!op->borrowed) std::free(op->buf);
      delete op;
      if (rc == 0) {
        // Nothing to read: complete at once, through the same path as every completion.
        std::lock_guard<std::mutex> lk(kickMu_);
        zeroReads_.push_back(id);
      }
    }
    Kick();
    return Napi::Number::New(env, rc < 0 ? -rc : rc);
  }

  // postSend(id, bytes, tagged, tagHi, tagLo, peer?): copies `bytes`; 0 or a positive errno (EAGAIN: retry after progress).
  Napi::Value PostSend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
    uint32_t id = info[0].ToNumber().Uint32Value();
    uint8_t* data;
    size_t len;
    if (!viewOf(env, info[1], &data, &len)) {
      Napi::TypeError::New(env, "postSend bytes must be a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    bool tagged = info[2].ToBoolean().Value();
    uint64_t tag = (static_cast<uint64_t>(info[3].ToNumber().Uint32Value()) << 32) | info[4].ToNumber().Uint32Value();
    Op* op = new Op{};
    op->kind = K_SEND;
    op->id = id;
    op->len = len;
    op->buf = static_cast<uint8_t*>(std::malloc(len ? len : 1));
    if (op->buf == nullptr) {
      delete op;
      return Napi::Number::New(env, FI_ENOMEM);
    }
    std::memcpy(op->buf, data, len);
    Track(op);
    fi_addr_t to = peer_;
    if (info.Length() > 5 && info[5].IsNumber() && info[5].ToNumber().Int64Value() >= 0) to = static_cast<fi_addr_t>(info[5].ToNumber().Int64Value());
    ShmGuard guard(shm_);
    ssize_t rc = tagged ? fi_tsend(ep_, op->buf, len, nullptr, to, tag, &op->ctx) : fi_send(ep_, op->buf, len, nullptr, to, &op->ctx);
    if (rc != 0) {
      Untrack(id);
      std::free(op->buf);
      delete op;
    }
    Kick();
    return Napi::Number::New(env, rc < 0 ? -rc : rc);
  }

  // postRecv(id, target | null, len, tagHi, tagLo): a tagged receive into `target` (kept alive by
  // the caller until the completion) or into a buffer of its own handed over on completion.
  Napi::Value PostRecv(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
    uint32_t id = info[0].ToNumber().Uint32Value();
    Op* op = RecvOp(env, info, id);
    if (op == nullptr) return Napi::Number::New(env, FI_ENOMEM);
    uint64_t tag = (static_cast<uint64_t>(info[3].ToNumber().Uint32Value()) << 32) | info[4].ToNumber().Uint32Value();
    Track(op);
    ShmGuard guard(shm_);
    ssize_t rc = fi_trecv(ep_, op->buf, op->len, nullptr, FI_ADDR_UNSPEC, tag, 0, &op->ctx);
    if (rc != 0) {
      Untrack(id);
      if (!op->borrowed) std::free(op->buf);
      delete op;
    }
    Kick();
    return Napi::Number::New(env, rc < 0 ? -rc : rc);
  }

  // cancel(id): asks the provider to cancel a posted receive; its completion (FI_ECANCELED) follows.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
    uint32_t id = info[0].ToNumber().Uint32Value();
    ShmGuard guard(shm_);
    std::lock_guard<std::mutex> lk(opsMu_);
    auto it = ops_.find(id);
    if (it == ops_.end()) return Napi::Number::New(env, FI_ENOENT);
    ssize_t rc = fi_cancel(&ep_->fid, &it->second->ctx);
    Kick();
    return Napi::Number::New(env, rc < 0 ? -rc : rc);
  }

  // setBusy(flag): operations whose data a polling provider moves are outstanding.
  Napi::Value SetBusy(const Napi::CallbackInfo& info) {
    busy_.store(info[0].ToBoolean().Value(), std::memory_order_relaxed);
    if (busy_.load(std::memory_order_relaxed)) Kick();
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (hasTsfn_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (hasTsfn_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown(true);
    return info.Env().Undefined();
  }

  // Stops the thread, then closes the endpoint (the provider forgets every posted operation), then
  // frees the contexts it held. Idempotent; also the destructor's work.
  void Teardown(bool lock) {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_release);
      Kick();
      thread_.join();
    }
    open_ = false;
    ShmGuard guard(lock && shm_);
    Resources r;
    r.info = info_, r.fabric = fabric_, r.domain = domain_, r.av = av_, r.cq = cq_, r.ep = ep_;
    info_ = nullptr, fabric_ = nullptr, domain_ = nullptr, av_ = nullptr, cq_ = nullptr, ep_ = nullptr;
    {
      std::lock_guard<std::mutex> lk(opsMu_);
      for (auto& kv : exposed_) r.ops.push_back(kv.second);
      for (auto& kv : ops_) r.ops.push_back(kv.second);
      exposed_.clear();
      ops_.clear();
    }
    for (Op* op : slots_) r.ops.push_back(op);
    slots_.clear();
    starved_.clear();
    freeEvents(pending_);
    if (shm_ && counted_) {
      // A peer endpoint of this process may still hold pointers into this endpoint's region (shm
      // shares regions of one process directly): keep everything until the process has no open
      // shm endpoint left, then close them all.
      counted_ = false;
      g_shmGrave.push_back(r);
      if (--g_shmOpen == 0) {
        for (Resources& g : g_shmGrave) g.Close();
        g_shmGrave.clear();
      }
    } else {
      r.Close();
    }
    if (hasTsfn_) {
      hasTsfn_ = false;
      tsfn_.Release();
    }
  }

  std::shared_ptr<Shared> shared_;
  struct fi_info* info_ = nullptr;
  struct fid_fabric* fabric_ = nullptr;
  struct fid_domain* domain_ = nullptr;
  struct fid_av* av_ = nullptr;
  struct fid_cq* cq_ = nullptr;
  struct fid_ep* ep_ = nullptr;
  fi_addr_t peer_ = FI_ADDR_UNSPEC;
  bool server_ = false;
  bool open_ = false;
  bool hasTsfn_ = false;
  bool waitable_ = false;
  bool shm_ = false;
  bool counted_ = false;  // counted in g_shmOpen
  uint32_t metaBytes_ = 0;
  int64_t idleMaxUs_ = 2000;
  uint32_t spinUs_ = 200;
  std::vector<Op*> slots_;
  std::vector<Op*> starved_;     // progress thread only
  std::vector<Event> pending_;   // progress thread only
  std::mutex opsMu_;
  std::unordered_map<uint32_t, Op*> ops_;
  std::unordered_map<uint32_t, Op*> exposed_;
  std::vector<uint32_t> zeroReads_;  // guarded by kickMu_
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> busy_{false};
  std::atomic<int64_t> lastActivity_{0};
  std::mutex kickMu_;
  std::condition_variable kickCv_;
  bool kicked_ = false;
  Napi::ThreadSafeFunction tsfn_;
};

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("Endpoint", Endpoint::Init(env));
  exports.Set("version", Napi::String::New(env, std::to_string(FI_MAJOR(fi_version())) + "." + std::to_string(FI_MINOR(fi_version()))));
  return exports;
}

}  // namespace

NODE_API_MODULE(lightbeam_fabric, InitModule)
