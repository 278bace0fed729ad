// The N-API surface: the Endpoint class's methods as JavaScript sees them, and the module.
#include "endpoint.h"

namespace lbm_fabric {

Napi::Function Endpoint::Init(Napi::Env env) {
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
                         InstanceMethod("watch", &Endpoint::Watch),
                         InstanceMethod("poll", &Endpoint::Poll),
                         InstanceMethod("registerRegion", &Endpoint::RegisterRegion),
                         InstanceMethod("unregisterRegion", &Endpoint::UnregisterRegion),
                         InstanceMethod("stats", &Endpoint::Stats),
                     });
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

bool viewArg(const Napi::CallbackInfo& info, size_t i, const char* what, uint8_t** data, size_t* len) {
  if (viewOf(info.Env(), info[i], data, len)) return true;
  Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint8Array").ThrowAsJavaScriptException();
  return false;
}

void freeEvents(std::vector<Event>& evs) {
  for (auto& e : evs) std::free(e.buf);
  evs.clear();
}

Napi::Value Endpoint::Name(const Napi::CallbackInfo& info) {
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

Napi::Value Endpoint::Provider(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), info_ && info_->fabric_attr->prov_name ? info_->fabric_attr->prov_name : "");
}

// rawName(): the endpoint's address as bytes, for a peer's insertPeer.
Napi::Value Endpoint::RawName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) return env.Null();
  char buf[512];
  size_t len = sizeof buf;
  if (fi_getname(&ep_->fid, buf, &len) != 0) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(buf), len);
}

// insertPeer(bytes): adds a peer's raw address to the address vector; its fi_addr, or -errno.
Napi::Value Endpoint::InsertPeer(const Napi::CallbackInfo& info) {
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

// A receive-side operation into the caller's Uint8Array info[1] (borrowed: JavaScript keeps it
// alive until the completion) or, when info[1] is not one, into a buffer of its own of info[2]
// bytes handed over on completion. nullptr when that buffer cannot be had.
Op* Endpoint::RecvOp(napi_env env, const Napi::CallbackInfo& info, uint32_t id) {
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
void Endpoint::Track(Op* op) {
  std::lock_guard<std::mutex> lk(opsMu_);
  ops_[op->id] = op;
}

void Endpoint::Untrack(uint32_t id) {
  std::lock_guard<std::mutex> lk(opsMu_);
  ops_.erase(id);
}

// postRead(id, target | null, len, peer, addrHi, addrLo, keyHi, keyLo): a one-sided read of a
// peer's exposure into `target` (kept alive by the caller) or a buffer of its own; completes as a receive.
Napi::Value Endpoint::PostRead(const Napi::CallbackInfo& info) {
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
Napi::Value Endpoint::PostSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
  uint32_t id = info[0].ToNumber().Uint32Value();
  uint8_t* data;
  size_t len;
  if (!viewArg(info, 1, "postSend bytes", &data, &len)) return env.Undefined();
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
Napi::Value Endpoint::PostRecv(const Napi::CallbackInfo& info) {
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
Napi::Value Endpoint::Cancel(const Napi::CallbackInfo& info) {
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
Napi::Value Endpoint::SetBusy(const Napi::CallbackInfo& info) {
  busy_.store(info[0].ToBoolean().Value(), std::memory_order_relaxed);
  if (busy_.load(std::memory_order_relaxed)) Kick();
  return info.Env().Undefined();
}

Napi::Value Endpoint::Ref(const Napi::CallbackInfo& info) {
  if (hasTsfn_) tsfn_.Ref(info.Env());
  return info.Env().Undefined();
}

Napi::Value Endpoint::Unref(const Napi::CallbackInfo& info) {
  if (hasTsfn_) tsfn_.Unref(info.Env());
  return info.Env().Undefined();
}

// watch(name): an shm region (this endpoint's own, or a peer's) whose lock the reaper releases if
// a killed process left it held; a no-op on other providers.
Napi::Value Endpoint::Watch(const Napi::CallbackInfo& info) {
  if (shm_ && open_ && info[0].IsString()) reaperWatch(this, info[0].ToString().Utf8Value());
  return info.Env().Undefined();
}

Napi::Value Endpoint::Close(const Napi::CallbackInfo& info) {
  Teardown(true);
  return info.Env().Undefined();
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("Endpoint", Endpoint::Init(env));
  exports.Set("regionAlive", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    // regionAlive(name): whether the process owning an shm region is alive (false once it is gone).
    return Napi::Boolean::New(info.Env(), info[0].IsString() && regionOwnerAlive(info[0].ToString().Utf8Value()));
  }));
  exports.Set("version", Napi::String::New(env, std::to_string(FI_MAJOR(fi_version())) + "." + std::to_string(FI_MINOR(fi_version()))));
  return exports;
}

}  // namespace lbm_fabric

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return lbm_fabric::InitModule(env, exports); }

NODE_API_MODULE(lightbeam_fabric, Init)
