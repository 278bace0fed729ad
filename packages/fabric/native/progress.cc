// Lightbeam's libfabric binding: one reliable-datagram (FI_EP_RDM) endpoint per object. Two
// readers take completions from its CQ, never at once (cqMu_, held from the read until the events
// are queued for JavaScript, so they reach it in the CQ's order):
// - JavaScript itself (Poll), once per event-loop turn while a call of this process is hot (a
//   post or completion within spinUs, see src/hot.ts): no thread hand-off on the hot path. Poll
//   only ever try-locks cqMu_: it never waits on a thread that may be inside the provider.
// - the progress thread otherwise, handing completions over in batches through a thread-safe
//   function. It parks while JavaScript polls (hotUntil_).
//
// Why a thread and not uv_poll on the CQ's fd: waiting on the fd with fi_trywait crashed
// tcp;ofi_rxm on the first large message and the shm provider has no fd at all (FI_WAIT_FD is
// ENOSYS). The thread polls while there is traffic, then waits: in fi_cq_sread for zero entries
// on tcp-based providers (outside cqMu_: fi_cq_signal does not reliably end it), or on a condition
// variable with a growing timeout (at most `idleMaxUs`) on shm, so an idle endpoint costs a few
// hundred cheap wake-ups a second and never wakes the event loop.
//
// Operation contexts (Op) live until their completion arrives or the endpoint is closed: the
// provider owns them in between. Every buffer a send reads is a private copy (a message's bytes,
// or a staging buffer, memory.cc) or a buffer JavaScript keeps referenced.
#include "endpoint.h"

#include <algorithm>

namespace lbm_fabric {

// How far an idle endpoint's fi_cq_sread timeout grows past idleMaxUs (see Run).
constexpr int IDLE_SREAD_GROWTH = 32;

// Reads what the CQ holds now into `out` (error entries included): the number of entries, 0
// when there were none.
ssize_t Endpoint::ReadCq(std::vector<Event>& out) {
  struct fi_cq_tagged_entry ents[32];
  ssize_t n = fi_cq_read(cq_, ents, 32);
  if (n > 0) {
    for (ssize_t i = 0; i < n; i++) Complete(static_cast<Op*>(ents[i].op_context), 0, ents[i].len, out);
    return n;
  }
  if (n == -FI_EAVAIL) {
    struct fi_cq_err_entry e{};
    if (fi_cq_readerr(cq_, &e, 0) > 0 && e.op_context != nullptr) Complete(static_cast<Op*>(e.op_context), e.err ? e.err : FI_EIO, e.len, out);
    return 1;
  }
  return 0;
}

// Runs on the progress thread only.
void Endpoint::Run() {
  int64_t backoffUs = 10;
  // fi_cq_sread's timeout on a waitable CQ: idleMaxUs after activity, doubling each time it runs
  // out with nothing to read, up to IDLE_SREAD_GROWTH times that. Data from a peer and a post
  // (fi_cq_signal) end the wait at once: the timeout is only a safety net, and at 2 ms two idle
  // endpoints woke 860 times a second (3.4-3.7% of a core here, 40 us per wake-up under load).
  const int baseMs = static_cast<int>(idleMaxUs_ / 1000 > 0 ? idleMaxUs_ / 1000 : 1);
  int sreadMs = baseMs;
  while (!stop_.load(std::memory_order_acquire)) {
    // While JavaScript reads the CQ itself (Poll: a call is hot), stay off it: two readers would
    // only race for the same entries, and the one that matters is JavaScript's.
    int64_t hot = hotUntil_.load(std::memory_order_seq_cst);
    int64_t now = nowNs();
    if (hot > now) {
      std::unique_lock<std::mutex> lk(kickMu_);
      if (!stop_.load(std::memory_order_acquire)) kickCv_.wait_for(lk, std::chrono::nanoseconds(hot - now));
      // Its hot spell just ended: poll a while before sleeping, as after any activity.
      lastActivity_.store(nowNs(), std::memory_order_relaxed);
      continue;
    }
    // Idle once nothing happened for spinUs: then a waitable CQ blocks, and a polling provider
    // (shm) sleeps with a growing timeout. Outstanding reads or exposures do not keep it
    // spinning: a peer that died with them would cost a core until close (see `busy_` below).
    bool idle = now - lastActivity_.load(std::memory_order_relaxed) >= static_cast<int64_t>(spinUs_) * 1000;
    ssize_t n;
    if (waitable_ && idle) {
      // Block until the CQ has something, consuming nothing (a read of 0 entries returns 0 once
      // there is an entry): the entries are read below under cqMu_, so a Poll on the JavaScript
      // thread meanwhile never waits for this sleep, and the two readers keep the CQ's order.
      sleeping_.store(true, std::memory_order_seq_cst);
      struct fi_cq_tagged_entry none[1];
      ssize_t w = 0;
      if (hotUntil_.load(std::memory_order_seq_cst) <= nowNs()) w = fi_cq_sread(cq_, none, 0, nullptr, sreadMs);
      sleeping_.store(false, std::memory_order_relaxed);
      // Ran out with nothing (no entry, no signal, no post meanwhile): wait longer next time.
      bool quiet = w == -FI_EAGAIN && nowNs() - lastActivity_.load(std::memory_order_relaxed) >= static_cast<int64_t>(sreadMs) * 1000000;
      sreadMs = quiet ? std::min(sreadMs * 2, baseMs * IDLE_SREAD_GROWTH) : baseMs;
    }
    {
      std::lock_guard<std::mutex> cq(cqMu_);
      std::unique_lock<ShmMutex> shmLock(g_shmMu, std::defer_lock);
      if (shm_) shmLock.lock();
      n = ReadCq(pending_);
      if (n == 0) RepostSlots();
      if (shmLock.owns_lock()) shmLock.unlock();
      // Still under cqMu_: a Poll after this sees these events before any it reads itself.
      Flush();
    }
    if (n > 0) {
      backoffUs = 10;
      lastActivity_.store(nowNs(), std::memory_order_relaxed);
      continue;
    }
    {
      std::vector<uint32_t> zr;
      {
        std::lock_guard<std::mutex> lk(kickMu_);
        zr.swap(zeroReads_);
      }
      if (!zr.empty()) {
        std::lock_guard<std::mutex> cq(cqMu_);
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
    } else {
      // Busy (reads or exposures outstanding): a polling provider may need this side's progress
      // to move their bytes (shm without CMA), so the sleeps stop growing at an eighth of idleMaxUs.
      int64_t cap = busy_.load(std::memory_order_relaxed) ? std::max<int64_t>(10, idleMaxUs_ / 8) : idleMaxUs_;
      backoffUs = backoffUs * 2 > cap ? cap : backoffUs * 2;
    }
  }
}

// poll(hotUs): see endpoint.h.
Napi::Value Endpoint::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) return env.Undefined();
  int64_t hotUs = info[0].ToNumber().Int64Value();
  hotUs = hotUs < 0 ? 0 : hotUs > 100000 ? 100000 : hotUs;
  // waitUs: how long to retry for cqMu_ (a completion known to be queued: an shm read's).
  int64_t waitUs = info.Length() > 1 ? info[1].ToNumber().Int64Value() : 0;
  waitUs = waitUs < 0 ? 0 : waitUs > 1000 ? 1000 : waitUs;
  hotUntil_.store(nowNs() + hotUs * 1000, std::memory_order_seq_cst);
  std::vector<Event>& evs = polled_;
  {
    // Never wait long for the progress thread: it may be inside the provider (a peer's lock).
    // Its ordinary hold (one fi_cq_read) is microseconds, so a bounded retry usually wins.
    std::unique_lock<std::mutex> cq(cqMu_, std::try_to_lock);
    for (int64_t until = nowNs() + waitUs * 1000; !cq.owns_lock() && nowNs() < until;) {
      std::this_thread::yield();
      cq.try_lock();
    }
    if (!cq.owns_lock()) return env.Undefined();
    {
      std::lock_guard<std::mutex> lk(shared_->mu);
      // What the thread queued for JavaScript came out of the CQ first: it goes first.
      evs.swap(shared_->events);
    }
    ShmGuard guard(shm_);
    while (evs.size() < 256 && ReadCq(evs) > 0) {
    }
    RepostSlots();
  }
  {
    std::lock_guard<std::mutex> lk(kickMu_);
    for (uint32_t id : zeroReads_) evs.push_back(Event{K_RECV, id, 0, 0, nullptr});
    zeroReads_.clear();
  }
  if (evs.empty()) return env.Undefined();
  lastActivity_.store(nowNs(), std::memory_order_relaxed);
  return eventsToJs(env, evs);
}

// A JavaScript post happened: the provider needs progress now.
void Endpoint::Kick() {
  lastActivity_.store(nowNs(), std::memory_order_relaxed);
  if (waitable_ && cq_ != nullptr) {
    // Ends an fi_cq_sread in progress so the thread polls again (a thread that is polling sees
    // the new activity time and keeps polling).
    if (sleeping_.load(std::memory_order_seq_cst) || stop_.load(std::memory_order_relaxed)) fi_cq_signal(cq_);
    if (stop_.load(std::memory_order_relaxed)) kickCv_.notify_one();
    return;
  }
  {
    std::lock_guard<std::mutex> lk(kickMu_);
    kicked_ = true;
  }
  // While JavaScript polls (hot), the thread is parked until the spell ends and will see kicked_
  // then: waking it now only made it race the JavaScript thread's poll for cqMu_ (a read's
  // completion, due right after an shm fi_read, then went through the thread-safe function
  // instead, for a quarter of the messages of a 1 MiB stream), two context switches per post.
  if (hotUntil_.load(std::memory_order_seq_cst) > nowNs() && !stop_.load(std::memory_order_relaxed)) return;
  kickCv_.notify_one();
}

void Endpoint::Complete(Op* op, int err, size_t len, std::vector<Event>& out) {
  if (op->kind == K_META) {
    Event e{K_META, op->id, err, len, nullptr};
    if (err == 0 || err == FI_ETRUNC) {
      size_t n = len > op->len ? op->len : len;
      e.buf = static_cast<uint8_t*>(std::malloc(n ? n : 1));
      std::memcpy(e.buf, op->buf, n);
      e.len = n;
    }
    out.push_back(e);
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
  out.push_back(e);
  delete op;
}

void Endpoint::RepostSlots() {
  while (!starved_.empty()) {
    Op* op = starved_.back();
    if (fi_recv(ep_, op->buf, op->len, nullptr, FI_ADDR_UNSPEC, &op->ctx) != 0) return;
    starved_.pop_back();
  }
}

// Hands the completions gathered so far to JavaScript: one call per batch, none while one is queued.
void Endpoint::Flush() {
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
    // A Poll on the JavaScript thread may have taken them already.
    if (evs.empty()) return;
    cb.Call({eventsToJs(env, evs)});
  });
  if (st != napi_ok) {
    delete data;
    std::lock_guard<std::mutex> lk(shared_->mu);
    shared_->scheduled = false;
  }
}

// Completions as JavaScript takes them: [kind, id, err, len, buffer | undefined] repeated; each
// event's buffer passes to the returned array. `evs` is left empty.
Napi::Array eventsToJs(Napi::Env env, std::vector<Event>& evs) {
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
  evs.clear();
  return arr;
}

}  // namespace lbm_fabric
