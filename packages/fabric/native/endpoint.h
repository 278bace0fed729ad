// One libfabric endpoint as a JavaScript object. Its definitions are split by concern:
// endpoint.cc (opening and teardown), progress.cc (the progress thread and completions),
// memory.cc (registrations peers read), addon.cc (the N-API methods and module).
#pragma once
#include "common.h"

namespace lbm_fabric {

class Endpoint : public Napi::ObjectWrap<Endpoint> {
 public:
  static Napi::Function Init(Napi::Env env);
  Endpoint(const Napi::CallbackInfo& info);
  ~Endpoint() override;

 private:
  void Fail(Napi::Env env, const char* what, int rc);
  // Runs on the progress thread only.
  void Run();
  // A JavaScript post happened: the provider needs progress now.
  void Kick();
  // Turns one CQ entry into an event in `out`. Under cqMu_ (either thread).
  void Complete(Op* op, int err, size_t len, std::vector<Event>& out);
  // Reads what the CQ holds now into `out` (error entries included): the number of entries, 0
  // when it was empty. Under cqMu_ (either thread).
  ssize_t ReadCq(std::vector<Event>& out);
  void RepostSlots();
  // Hands the completions gathered so far to JavaScript: one call per batch, none while one is queued.
  void Flush();
  // poll(hotUs): reads the CQ on the JavaScript thread, right away, and keeps the progress thread
  // off it for the next hotUs microseconds (the call is hot: its completion is due soon). Returns
  // the completions (those the thread had queued for JavaScript first, so order is kept), or
  // undefined when there are none or the thread is reading the CQ at this moment.
  Napi::Value Poll(const Napi::CallbackInfo& info);
  // registerRegion(id, view, byteOffset, bufferBytes): registers the whole buffer `view` lies in
  // for remote reads, once, until unregisterRegion(id); [addrHi, addrLo, keyHi, keyLo] of the
  // buffer's start (addr 0 when the provider addresses by offset), or an errno.
  Napi::Value RegisterRegion(const Napi::CallbackInfo& info);
  Napi::Value UnregisterRegion(const Napi::CallbackInfo& info);
  // stats(): [registrations made (fi_mr_reg calls), registrations live, staging bytes kept].
  Napi::Value Stats(const Napi::CallbackInfo& info);
  // Registers [buf, buf + len) for remote reads (bound to the endpoint where the provider wants it).
  int RegisterMr(uint8_t* buf, size_t len, uint64_t key, struct fid_mr** mr);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Provider(const Napi::CallbackInfo& info);
  // rawName(): the endpoint's address as bytes, for a peer's insertPeer.
  Napi::Value RawName(const Napi::CallbackInfo& info);
  // insertPeer(bytes): adds a peer's raw address to the address vector; its fi_addr, or -errno.
  Napi::Value InsertPeer(const Napi::CallbackInfo& info);
  // expose(id, bytes, copy): offers `bytes` for remote reads until unexpose(id): a copy in a staging
  // buffer (registered when first made), or the bytes themselves registered in place; returns
  // [addrHi, addrLo, keyHi, keyLo] (addr is what a peer passes to fi_read), or an errno.
  Napi::Value Expose(const Napi::CallbackInfo& info);
  // unexpose(id): the peer has read (or dropped) it: a staging buffer is kept for reuse (up to
  // stageKeepBytes), anything else deregistered.
  Napi::Value Unexpose(const Napi::CallbackInfo& info);
  // A receive-side operation into the caller's Uint8Array info[1] (borrowed: JavaScript keeps it
  // alive until the completion) or, when info[1] is not one, into a buffer of its own of info[2]
  // bytes handed over on completion. nullptr when that buffer cannot be had.
  Op* RecvOp(napi_env env, const Napi::CallbackInfo& info, uint32_t id);
  // Operations in flight by id, so completions (on the progress thread) and cancel find them.
  void Track(Op* op);
  void Untrack(uint32_t id);
  // postRead(id, target | null, len, peer, addrHi, addrLo, keyHi, keyLo): a one-sided read of a
  // peer's exposure into `target` (kept alive by the caller) or a buffer of its own; completes as a receive.
  Napi::Value PostRead(const Napi::CallbackInfo& info);
  // postSend(id, bytes, tagged, tagHi, tagLo, peer?): copies `bytes`; 0 or a positive errno (EAGAIN: retry after progress).
  Napi::Value PostSend(const Napi::CallbackInfo& info);
  // postRecv(id, target | null, len, tagHi, tagLo): a tagged receive into `target` (kept alive by
  // the caller until the completion) or into a buffer of its own handed over on completion.
  Napi::Value PostRecv(const Napi::CallbackInfo& info);
  // cancel(id): asks the provider to cancel a posted receive; its completion (FI_ECANCELED) follows.
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  // setBusy(flag): operations whose data a polling provider moves are outstanding.
  Napi::Value SetBusy(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  // watch(name): an shm region the reaper looks after (reaper.cc).
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // Stops the thread, then closes the endpoint (the provider forgets every posted operation), then
  // frees the contexts it held. Idempotent; also the destructor's work.
  void Teardown(bool lock);

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
  std::vector<Op*> starved_;     // under cqMu_
  std::vector<Event> pending_;   // under cqMu_
  // Held by whoever reads the CQ (the progress thread, or JavaScript in Poll), from the read until
  // its events are queued for JavaScript, so completions reach JavaScript in the CQ's order.
  // JavaScript only ever try-locks it: it never waits on a thread inside the provider.
  std::mutex cqMu_;
  // Until when (steady clock ns) JavaScript reads the CQ itself: the progress thread stays off it.
  std::atomic<int64_t> hotUntil_{0};
  std::vector<Event> polled_;  // Poll's events, reused (JavaScript thread only)
  // Staging buffers kept for reuse, by size class; JavaScript thread only.
  std::unordered_map<size_t, std::vector<Staged>> staged_;
  size_t stagedBytes_ = 0;
  size_t stageKeepBytes_ = 128u << 20;  // JavaScript passes its default
  std::unordered_map<uint32_t, struct fid_mr*> regions_;  // JavaScript thread only
  uint64_t mrRegs_ = 0;
  uint64_t mrLive_ = 0;
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

}  // namespace lbm_fabric
