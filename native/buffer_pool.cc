#include "buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>
#include <v8.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

// Why: every activation of 4 MB or more is its own mapping (addon.cc fixes glibc's mmap threshold
// there, for the memory figures of long pipelined runs), so each step the kernels write fresh
// pages and the VM takes a page fault every 4 KB: 15-22 % of a CNN or ResNet-20 step. Activations
// of a step have the same sizes as those of the previous step, so memory freed by V8's garbage
// collector is kept here, keyed by exact size, and handed out again without faults.
//
// The memory is owned by a V8 backing store whose deleter returns it here. A backing store can
// move to another isolate (a buffer transferred to another pipeline stage's worker) and be freed
// there, so the pool is process-wide and locked. (Node-API's external buffers are not used: their
// finalizers run on the creating thread and also at its exit, even while another thread still
// holds the memory.) The pool is a leaked singleton because deleters may run during exit.

namespace al {
namespace {

// Memory kept for reuse at most; beyond it, freed buffers go back to the system.
constexpr size_t kPoolCapBytes = size_t{1} << 30;
// A buffer not asked for again within this time goes back to the system. Training reuses a size
// within milliseconds; what waits longer (an evaluation's batch size, the copies of an epoch's
// end, the extra garbage of one unusually late collection) would otherwise stay for good: a
// 20-epoch pipelined MLP run grew its RSS by 16 % with an unbounded pool (flat without one).
constexpr auto kIdle = std::chrono::seconds(2);

using Clock = std::chrono::steady_clock;

struct Pooled {
  void* data;
  Clock::time_point since;
};

struct Pool {
  std::mutex mu;
  // per size, oldest first: the newest is reused, the oldest expire
  std::unordered_map<size_t, std::vector<Pooled>> free;
  size_t pooledBytes = 0;
  size_t buffers = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t expired = 0;
  Clock::time_point lastSweep;
};

Pool& ThePool() {
  static Pool* pool = new Pool();
  return *pool;
}

// Under the lock: moves buffers idle for longer than kIdle to `out`, at most every kIdle / 4.
void SweepLocked(Pool& pool, Clock::time_point now, std::vector<void*>& out) {
  if (now - pool.lastSweep < kIdle / 4) return;
  pool.lastSweep = now;
  for (auto& [bytes, list] : pool.free) {
    size_t stale = 0;
    while (stale < list.size() && now - list[stale].since > kIdle) out.push_back(list[stale++].data);
    if (stale == 0) continue;
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(stale));
    pool.pooledBytes -= stale * bytes;
    pool.buffers -= stale;
    pool.expired += stale;
  }
}

void FreeAll(const std::vector<void*>& buffers) {
  for (void* data : buffers) std::free(data);
}

bool PoolingEnabled() {
  // AL_BUFFER_POOL=0 turns the pool off (every buffer freed at once), to measure what it does
  static const bool enabled = [] {
    const char* v = std::getenv("AL_BUFFER_POOL");
    return v == nullptr || std::string(v) != "0";
  }();
  return enabled;
}

void Release(void* data, size_t length, void* /*deleter_data*/) {
  Pool& pool = ThePool();
  std::vector<void*> stale;
  bool kept = false;
  if (PoolingEnabled()) {
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(pool.mu);
    SweepLocked(pool, now, stale);
    if (pool.pooledBytes + length <= kPoolCapBytes) {
      pool.free[length].push_back({data, now});
      pool.pooledBytes += length;
      pool.buffers++;
      kept = true;
    }
  }
  FreeAll(stale);
  if (!kept) std::free(data);
}

void* Take(size_t bytes) {
  Pool& pool = ThePool();
  std::vector<void*> stale;
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    SweepLocked(pool, Clock::now(), stale);
    auto it = pool.free.find(bytes);
    if (it == pool.free.end() || it->second.empty()) {
      pool.misses++;
    } else {
      data = it->second.back().data;
      it->second.pop_back();
      pool.pooledBytes -= bytes;
      pool.buffers--;
      pool.hits++;
    }
  }
  FreeAll(stale);
  return data;
}

// Why: on this kind of VM the first touch of fresh memory costs about 3.7 ms a MB in page faults,
// so a wide bridge's 200 MB of weights and as much again of each Adam moment cost seconds the
// first time they are written: most of building the net and of its first step. Advised before
// the first touch, such long-lived arrays get 2 MB pages where the kernel has them (transparent
// huge pages in "madvise" mode), which roughly halves that cost. Activations are not advised:
// pooled buffers on huge pages made ResNet-20 steps 8-10 % slower. Only the whole pages inside
// the block are advised; the advice is a hint, and a failure changes nothing but the speed.
constexpr size_t kHugePage = size_t{2} << 20;

bool HugePagesEnabled() {
  // AL_HUGE_PAGES=0 leaves every block on 4 KB pages, to measure what the advice does
  static const bool enabled = [] {
    const char* v = std::getenv("AL_HUGE_PAGES");
    return v == nullptr || std::string(v) != "0";
  }();
  return enabled;
}

void AdviseHugePages(void* data, size_t bytes) {
  if (bytes < kHugePage || !HugePagesEnabled()) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

double RequestedBytes(const Napi::CallbackInfo& info, const char* name) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(env, std::string(name) + ": expected (bytes: number)");
  const double requested = info[0].As<Napi::Number>().DoubleValue();
  // the bound first: casting a double beyond int64's range is undefined
  if (!(requested >= 1) || requested > static_cast<double>(v8::TypedArray::kMaxLength) ||
      requested != std::floor(requested)) {
    throw Napi::RangeError::New(
        env, std::string(name) + ": expected a positive whole number of bytes within ArrayBuffer's limit, got " +
                 std::to_string(requested));
  }
  return requested;
}

// The memory as an ArrayBuffer whose deleter gives it to the pool.
Napi::Value Wrap(Napi::Env env, void* data, size_t bytes) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(data, bytes, Release, nullptr);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  // A Node-API value is a V8 handle in this scope (Node's own JsValueFromV8LocalValue does this).
  return Napi::Value(env, reinterpret_cast<napi_value>(*buffer));
}

}  // namespace

Napi::Value PooledArrayBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto bytes = static_cast<size_t>(RequestedBytes(info, "pooledArrayBuffer"));
  void* data = Take(bytes);
  if (data == nullptr) {
    data = std::malloc(bytes);
    if (data == nullptr)
      throw Napi::Error::New(env, "pooledArrayBuffer: out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  return Wrap(env, data, bytes);
}

Napi::Value ZeroedArrayBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto bytes = static_cast<size_t>(RequestedBytes(info, "zeroedArrayBuffer"));
  // calloc of a block glibc maps afresh returns the kernel's zero pages untouched: the advice
  // still comes before the first write
  void* data = std::calloc(bytes, 1);
  if (data == nullptr)
    throw Napi::Error::New(env, "zeroedArrayBuffer: out of memory allocating " + std::to_string(bytes) + " bytes");
  AdviseHugePages(data, bytes);
  return Wrap(env, data, bytes);
}

Napi::Value BufferPoolStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool& pool = ThePool();
  std::lock_guard<std::mutex> lock(pool.mu);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("pooledBytes", static_cast<double>(pool.pooledBytes));
  stats.Set("buffers", static_cast<double>(pool.buffers));
  stats.Set("hits", static_cast<double>(pool.hits));
  stats.Set("misses", static_cast<double>(pool.misses));
  stats.Set("expired", static_cast<double>(pool.expired));
  return stats;
}

}  // namespace al
