// The reaper: containment of a killed peer on libfabric 1.17's shm provider.
//
// shm guards each endpoint's region (a file in /dev/shm that every peer maps) with a
// pthread_spinlock_t inside the region itself. Whoever posts to a peer, or progresses its own
// region, takes that lock. A process killed while holding it never releases it, and the next
// caller spins inside the provider forever (under g_shmMu, so every shm call of this process
// then blocks behind it). libfabric cannot be told to give up, so this thread does what the dead
// holder would have done: when some call has been inside the provider for longer than any real
// call takes (STUCK_NS) and a watched region's owner is dead, it releases every watched region
// lock that is still held. The stuck call then completes (its message lands in a queue nobody
// reads), and JavaScript reports the dead peer as ECONNRESET.
//
// Assumptions, checked before touching anything: the region starts with libfabric 1.17's header
// (u8 version == SMR_VERSION_1_17 at 0, i32 owner pid at 4, the spinlock at 24), and peers
// share this process's pid namespace (which shm's own CMA path assumes too).
#include "endpoint.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace lbm_fabric {

namespace {

constexpr uint8_t SMR_VERSION_1_17 = 4;
constexpr size_t REGION_PID_OFF = 4;
constexpr size_t REGION_LOCK_OFF = 24;
constexpr size_t REGION_MAP_BYTES = 4096;
constexpr int64_t STUCK_NS = 200LL * 1000 * 1000;
constexpr auto PERIOD = std::chrono::milliseconds(50);

struct Watched {
  const void* owner;
  std::string name;
  uint8_t* map;  // our own MAP_SHARED view of the region's first page
};

// Heap objects never destroyed: the detached reaper thread may still wait on the condition
// variable when the process exits, and a global's destructor (pthread_cond_destroy) would then
// wait for that waiter forever: the process would never exit.
std::mutex& g_reapMu = *new std::mutex;
std::condition_variable& g_reapCv = *new std::condition_variable;
std::vector<Watched>* g_watched = nullptr;  // never freed: the thread is detached
bool g_reaperStarted = false;

// "fi_shm://1234:1000:0" or "lightbeam-x-0": the file under /dev/shm.
std::string regionPath(const std::string& name) {
  std::string n = name.compare(0, 9, "fi_shm://") == 0 ? name.substr(9) : name;
  return "/dev/shm/" + n;
}

bool pidAlive(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A killed child not yet reaped is a zombie: as dead as it gets for a peer.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return true;
  char buf[256];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');
  return !(close != nullptr && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X'));
}

bool headerOk(const uint8_t* map) {
  return map[0] == SMR_VERSION_1_17;
}

int ownerPid(const uint8_t* map) {
  int pid;
  std::memcpy(&pid, map + REGION_PID_OFF, sizeof pid);
  return pid;
}

void reap() {
  std::unique_lock<std::mutex> lk(g_reapMu);
  for (;;) {
    if (g_watched->empty()) {
      g_reapCv.wait(lk);
      continue;
    }
    g_reapCv.wait_for(lk, PERIOD);
    int64_t since = g_shmMu.heldSince();
    if (since == 0 || nowNs() - since < STUCK_NS) continue;
    bool someoneDead = false;
    for (const Watched& w : *g_watched)
      if (headerOk(w.map) && !pidAlive(ownerPid(w.map))) someoneDead = true;
    if (!someoneDead) continue;
    for (const Watched& w : *g_watched) {
      if (!headerOk(w.map)) continue;
      auto* lock = reinterpret_cast<pthread_spinlock_t*>(w.map + REGION_LOCK_OFF);
      // Free now: nothing to release. Held: by the dead process (or a caller that is as stuck).
      if (pthread_spin_trylock(lock) == 0) {
        pthread_spin_unlock(lock);
        continue;
      }
      std::fprintf(stderr, "@lightbeam/fabric: shm region %s: released a lock a killed process held\n", w.name.c_str());
      pthread_spin_unlock(lock);
    }
  }
}

}  // namespace

void reaperWatch(const void* owner, const std::string& name) {
  int fd = open(regionPath(name).c_str(), O_RDWR);
  if (fd < 0) return;
  void* m = mmap(nullptr, REGION_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return;
  std::lock_guard<std::mutex> lk(g_reapMu);
  if (g_watched == nullptr) g_watched = new std::vector<Watched>();
  g_watched->push_back(Watched{owner, name, static_cast<uint8_t*>(m)});
  if (!g_reaperStarted) {
    g_reaperStarted = true;
    std::thread(reap).detach();
  }
  g_reapCv.notify_one();
}

void reaperForget(const void* owner) {
  std::lock_guard<std::mutex> lk(g_reapMu);
  if (g_watched == nullptr) return;
  for (size_t i = 0; i < g_watched->size();) {
    if ((*g_watched)[i].owner == owner) {
      munmap((*g_watched)[i].map, REGION_MAP_BYTES);
      (*g_watched)[i] = g_watched->back();
      g_watched->pop_back();
    } else {
      i++;
    }
  }
}

bool regionOwnerAlive(const std::string& name) {
  int fd = open(regionPath(name).c_str(), O_RDONLY);
  if (fd < 0) return false;
  uint8_t head[8];
  ssize_t n = pread(fd, head, sizeof head, 0);
  close(fd);
  if (n != static_cast<ssize_t>(sizeof head) || head[0] != SMR_VERSION_1_17) return true;  // unknown layout: assume alive
  return pidAlive(ownerPid(head));
}

}  // namespace lbm_fabric
