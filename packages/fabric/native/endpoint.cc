// Opening an endpoint (fi_getinfo through fi_enable, the pre-posted metadata receives, the
// progress thread) and tearing it down in the order libfabric wants.
#include "endpoint.h"

#include <cstdlib>
#include <cstring>

namespace lbm_fabric {

ShmMutex g_shmMu;
std::vector<Resources> g_shmGrave;
int g_shmOpen = 0;

void Resources::Close() {
  if (ep) fi_close(&ep->fid);
  for (Op* op : ops)
    if (op->mr) fi_close(&op->mr->fid);
  for (Staged& st : staged) fi_close(&st.mr->fid);
  for (struct fid_mr* mr : mrs) fi_close(&mr->fid);
  if (av) fi_close(&av->fid);
  if (cq) fi_close(&cq->fid);
  if (domain) fi_close(&domain->fid);
  if (fabric) fi_close(&fabric->fid);
  if (info) fi_freeinfo(info);
  for (Op* op : ops) {
    if (op->cap != 0) stageFree(op->buf, op->cap);
    else if (!op->borrowed) std::free(op->buf);
    delete op;
  }
  ops.clear();
  for (Staged& st : staged) stageFree(st.buf, st.cap);
  staged.clear();
  mrs.clear();
}

Endpoint::Endpoint(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Endpoint>(info), shared_(std::make_shared<Shared>()) {
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
  if (o.Has("stageKeepBytes") && o.Get("stageKeepBytes").IsNumber()) stageKeepBytes_ = static_cast<size_t>(o.Get("stageKeepBytes").ToNumber().Int64Value());
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

Endpoint::~Endpoint() { Teardown(true); }

void Endpoint::Fail(Napi::Env env, const char* what, int rc) {
  const char* msg = fi_strerror(rc < 0 ? -rc : rc);
  Teardown(false);
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + msg);
  e.Set("errno", Napi::Number::New(env, rc < 0 ? -rc : rc));
  e.ThrowAsJavaScriptException();
}

// Stops the thread, then closes the endpoint (the provider forgets every posted operation), then
// frees the contexts it held. Idempotent; also the destructor's work.
void Endpoint::Teardown(bool lock) {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    hotUntil_.store(0, std::memory_order_seq_cst);
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
  for (auto& kv : staged_)
    for (Staged& st : kv.second) r.staged.push_back(st);
  staged_.clear();
  stagedBytes_ = 0;
  for (auto& kv : regions_) r.mrs.push_back(kv.second);
  regions_.clear();
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
  // Last: until here a call of this endpoint may still have needed a lock released.
  reaperForget(this);
}

}  // namespace lbm_fabric
