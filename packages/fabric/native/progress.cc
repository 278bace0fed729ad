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
#include "endpoint.h"

#include <algorithm>

namespace lbm_fabric {

// Runs on the progress thread only.
void Endpoint::Run() {
  struct fi_cq_tagged_entry ents[32];
  int64_t backoffUs = 10;
  while (!stop_.load(std::memory_order_acquire)) {
    // Idle once nothing happened for spinUs: then a waitable CQ blocks, and a polling provider
    // (shm) sleeps with a growing timeout. Outstanding reads or exposures do not keep it
    // spinning: a peer that died with them would cost a core until close (see `busy_` below).
    bool idle = nowNs() - lastActivity_.load(std::memory_order_relaxed) >= static_cast<int64_t>(spinUs_) * 1000;
    ssize_t n;
    std::unique_lock<ShmMutex> shmLock(g_shmMu, std::defer_lock);
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
    } else {
      // Busy (reads or exposures outstanding): a polling provider may need this side's progress
      // to move their bytes (shm without CMA), so the sleeps stop growing at an eighth of idleMaxUs.
      int64_t cap = busy_.load(std::memory_order_relaxed) ? std::max<int64_t>(10, idleMaxUs_ / 8) : idleMaxUs_;
      backoffUs = backoffUs * 2 > cap ? cap : backoffUs * 2;
    }
  }
}

// A JavaScript post happened: the provider needs progress now.
void Endpoint::Kick() {
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

void Endpoint::Complete(Op* op, int err, size_t len) {
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

}  // namespace lbm_fabric
