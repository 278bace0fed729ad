// Memory peers read: staging buffers behind copied exposures, the caller's own buffers registered
// once per buffer (copyXfer false), and their registrations.
#include "endpoint.h"

#include <sys/mman.h>

namespace lbm_fabric {

uint8_t* stageAlloc(size_t cap) {
  void* p = mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  madvise(p, cap, MADV_DONTFORK);
  return static_cast<uint8_t*>(p);
}

void stageFree(uint8_t* p, size_t cap) { munmap(p, cap); }

static size_t stageClass(size_t n) {
  size_t c = STAGE_MIN;
  while (c < n) c <<= 1;
  return c;
}

// Registers [buf, buf + len) for remote reads (bound to the endpoint where the provider wants it).
// The caller holds the shm guard where one is needed.
int Endpoint::RegisterMr(uint8_t* buf, size_t len, uint64_t key, struct fid_mr** mr) {
  *mr = nullptr;
  int rc = fi_mr_reg(domain_, buf, len ? len : 1, FI_REMOTE_READ, 0, key, 0, mr, nullptr);
  if (rc == 0 && (info_->domain_attr->mr_mode & FI_MR_ENDPOINT)) {
    rc = fi_mr_bind(*mr, &ep_->fid, 0);
    if (rc == 0) rc = fi_mr_enable(*mr);
  }
  if (rc != 0) {
    if (*mr) fi_close(&(*mr)->fid);
    *mr = nullptr;
    return rc;
  }
  mrRegs_++;
  mrLive_++;
  return 0;
}

static Napi::Value Parts(Napi::Env env, uint64_t addr, uint64_t key) {
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, static_cast<uint32_t>(addr >> 32)));
  out.Set(1u, Napi::Number::New(env, static_cast<uint32_t>(addr)));
  out.Set(2u, Napi::Number::New(env, static_cast<uint32_t>(key >> 32)));
  out.Set(3u, Napi::Number::New(env, static_cast<uint32_t>(key)));
  return out;
}

// expose(id, bytes, copy): registers `bytes` for remote reads until unexpose(id): a copy in a
// staging buffer (registered when the buffer was first made) or, with copy false, the caller's own
// bytes; returns [addrHi, addrLo, keyHi, keyLo] (addr is what a peer passes to fi_read), or an errno.
Napi::Value Endpoint::Expose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
  uint32_t id = info[0].ToNumber().Uint32Value();
  uint8_t* data;
  size_t len;
  if (!viewArg(info, 1, "expose bytes", &data, &len)) return env.Undefined();
  bool copy = info.Length() < 3 || info[2].ToBoolean().Value();
  Op* op = new Op{};
  op->kind = K_SEND;
  op->id = id;
  op->len = len;
  if (copy) {
    size_t c = stageClass(len);
    auto it = staged_.find(c);
    if (it != staged_.end() && !it->second.empty()) {
      Staged s = it->second.back();
      it->second.pop_back();
      stagedBytes_ -= c;
      op->buf = s.buf;
      op->mr = s.mr;
    } else {
      op->buf = stageAlloc(c);
      if (op->buf == nullptr) {
        delete op;
        return Napi::Number::New(env, FI_ENOMEM);
      }
      ShmGuard guard(shm_);
      // Its own key, so a peer can never confuse it with another buffer's.
      int rc = RegisterMr(op->buf, c, id, &op->mr);
      if (rc != 0) {
        stageFree(op->buf, c);
        delete op;
        return Napi::Number::New(env, rc < 0 ? -rc : rc);
      }
    }
    op->cap = c;
    std::memcpy(op->buf, data, len);
  } else {
    // The caller's own bytes, registered in place: JavaScript keeps them referenced until unexpose.
    op->buf = data;
    op->borrowed = true;
    ShmGuard guard(shm_);
    int rc = RegisterMr(op->buf, len, id, &op->mr);
    if (rc != 0) {
      delete op;
      return Napi::Number::New(env, rc < 0 ? -rc : rc);
    }
  }
  uint64_t addr = (info_->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? reinterpret_cast<uint64_t>(op->buf) : 0;
  uint64_t key = fi_mr_key(op->mr);
  {
    std::lock_guard<std::mutex> lk(opsMu_);
    exposed_[id] = op;
  }
  return Parts(env, addr, key);
}

// unexpose(id): the peer has read (or dropped) it: a staging buffer goes back to the endpoint's
// kept ones (up to stageKeepBytes), anything else is deregistered (and a copy freed).
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
  if (op->cap != 0 && stagedBytes_ + op->cap <= stageKeepBytes_) {
    staged_[op->cap].push_back(Staged{op->buf, op->cap, op->mr});
    stagedBytes_ += op->cap;
  } else {
    {
      ShmGuard guard(shm_);
      if (op->mr) fi_close(&op->mr->fid);
    }
    mrLive_--;
    if (op->cap != 0) stageFree(op->buf, op->cap);
    else if (!op->borrowed) std::free(op->buf);
  }
  delete op;
  return Napi::Boolean::New(env, true);
}

// registerRegion(id, view, byteOffset, bufferBytes): registers the whole buffer `view` lies in
// for remote reads, once, until unregisterRegion(id); [addrHi, addrLo, keyHi, keyLo] of the
// buffer's start (addr 0 when the provider addresses by offset), or an errno.
Napi::Value Endpoint::RegisterRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) return Napi::Number::New(env, FI_ESHUTDOWN);
  uint32_t id = info[0].ToNumber().Uint32Value();
  uint8_t* data;
  size_t len;
  if (!viewArg(info, 1, "registerRegion view", &data, &len)) return env.Undefined();
  int64_t off = info[2].ToNumber().Int64Value();
  int64_t total = info[3].ToNumber().Int64Value();
  if (off < 0 || total < 0 || static_cast<uint64_t>(off) + len > static_cast<uint64_t>(total)) return Napi::Number::New(env, FI_EINVAL);
  uint8_t* base = data - off;
  struct fid_mr* mr = nullptr;
  int rc;
  {
    ShmGuard guard(shm_);
    rc = RegisterMr(base, static_cast<size_t>(total), id, &mr);
  }
  if (rc != 0) return Napi::Number::New(env, rc < 0 ? -rc : rc);
  regions_[id] = mr;
  uint64_t addr = (info_->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? reinterpret_cast<uint64_t>(base) : 0;
  return Parts(env, addr, fi_mr_key(mr));
}

// unregisterRegion(id): the buffer is gone (collected) or the endpoint no longer offers it.
Napi::Value Endpoint::UnregisterRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto it = regions_.find(info[0].ToNumber().Uint32Value());
  if (it == regions_.end()) return Napi::Boolean::New(env, false);
  {
    ShmGuard guard(shm_);
    fi_close(&it->second->fid);
  }
  mrLive_--;
  regions_.erase(it);
  return Napi::Boolean::New(env, true);
}

// stats(): [registrations made (fi_mr_reg calls), registrations live, staging bytes kept].
Napi::Value Endpoint::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(mrRegs_)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(mrLive_)));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(stagedBytes_)));
  return out;
}

}  // namespace lbm_fabric
