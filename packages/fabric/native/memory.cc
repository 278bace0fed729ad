// Memory peers read: the pool of private copies behind exposures, and their registration.
#include "endpoint.h"

namespace lbm_fabric {

std::mutex g_poolMu;
std::unordered_map<size_t, std::vector<uint8_t*>> g_pool;

static size_t poolClass(size_t n) {
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

// expose(id, bytes): registers a private copy of `bytes` for remote reads until unexpose(id);
// returns [addrHi, addrLo, keyHi, keyLo] (addr is the offset a peer passes to fi_read), or an errno.
Napi::Value Endpoint::Expose(const Napi::CallbackInfo& info) {
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
Napi::Value Endpoint::Unexpose(const Napi::CallbackInfo& info) {
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

}  // namespace lbm_fabric
