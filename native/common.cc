#include "common.h"

#include <omp.h>

#include <cstdlib>
#include <mutex>
#include <new>

namespace al {

const dnnl::engine& Engine() {
  static std::once_flag once;
  static dnnl::engine* engine = nullptr;
  // Leaked on purpose: cached primitives of threads that outlive static destruction (Node tears
  // worker threads down late) still hold the engine.
  std::call_once(once, [] { engine = new dnnl::engine(dnnl::engine::kind::cpu, 0); });
  return *engine;
}

dnnl::stream& Stream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

void SetNumThreads(int n) { omp_set_num_threads(n); }

int GetNumThreads() { return omp_get_max_threads(); }

std::string CpuIsaName() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_all: return "all";
    default: return "unknown";
  }
}

CacheKey& CacheKey::Add(int64_t v) {
  if (count == kMaxValues) throw std::logic_error("cache key holds too many values");
  values[count++] = v;
  return *this;
}

CacheKey& CacheKey::AddFloat(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return Add(bits);
}

size_t CacheKeyHash::operator()(const CacheKey& k) const noexcept {
  uint64_t h = std::hash<std::string_view>()(k.kernel);
  for (size_t i = 0; i < k.count; ++i) {
    h ^= static_cast<uint64_t>(k.values[i]) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return static_cast<size_t>(h);
}

namespace {

// A training run uses a few dozen shapes; this bound only stops a program that sweeps shapes
// from growing the cache without end.
constexpr size_t kMaxCacheEntries = 2048;

std::unordered_map<CacheKey, std::unique_ptr<CacheEntry>, CacheKeyHash>& Cache() {
  thread_local std::unordered_map<CacheKey, std::unique_ptr<CacheEntry>, CacheKeyHash> cache;
  return cache;
}

struct ScratchSlots {
  struct Slot {
    void* data = nullptr;
    size_t capacity = 0;
  };
  std::array<Slot, static_cast<size_t>(Scratch::kCount)> slots;

  void Release() {
    for (Slot& s : slots) {
      std::free(s.data);
      s = Slot{};
    }
  }
  ~ScratchSlots() { Release(); }
};

ScratchSlots& Slots() {
  thread_local ScratchSlots slots;
  return slots;
}

}  // namespace

CacheEntry* FindEntry(const CacheKey& key) {
  auto& cache = Cache();
  auto it = cache.find(key);
  return it == cache.end() ? nullptr : it->second.get();
}

CacheEntry* StoreEntry(const CacheKey& key, std::unique_ptr<CacheEntry> entry) {
  auto& cache = Cache();
  if (cache.size() >= kMaxCacheEntries) cache.clear();
  CacheEntry* raw = entry.get();
  cache[key] = std::move(entry);
  return raw;
}

size_t CacheSize() { return Cache().size(); }

void ClearCache() {
  Cache().clear();
  Slots().Release();
}

void* ScratchBuffer(Scratch slot, size_t bytes) {
  auto& s = Slots().slots[static_cast<size_t>(slot)];
  if (bytes > s.capacity) {
    // Page-rounded so that aligned_alloc's size rule holds and small growth steps coalesce.
    size_t capacity = (bytes + 4095) & ~size_t(4095);
    void* data = std::aligned_alloc(64, capacity);
    if (data == nullptr) throw std::bad_alloc();
    std::free(s.data);
    s.data = data;
    s.capacity = capacity;
  }
  return s.data;
}

dnnl::primitive_attr UserScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void Execute(Prim& p, std::initializer_list<ExecArg> args) {
  std::array<dnnl_exec_arg_t, 16> c_args;
  int n = 0;
  for (const ExecArg& a : args) {
    if (a.mem != nullptr) c_args[n++] = {a.arg, a.mem};
  }
  if (p.scratchpad_bytes > 0) {
    c_args[n++] = {DNNL_ARG_SCRATCHPAD, p.scratchpad.At(ScratchBuffer(Scratch::kScratchpad, p.scratchpad_bytes))};
  }
  dnnl::stream& s = Stream();
  dnnl::error::wrap_c_api(dnnl_primitive_execute(p.prim.get(), s.get(), n, c_args.data()),
                          "could not execute a primitive");
  dnnl::error::wrap_c_api(dnnl_stream_wait(s.get()), "could not wait on the stream");
}

Reorder::Reorder(const dnnl::memory::desc& src, const dnnl::memory::desc& dst) {
  if (src == dst) return;
  dnnl::reorder::primitive_desc pd(Engine(), src, Engine(), dst, UserScratchpadAttr());
  prim = Prim(dnnl::reorder(pd), pd.scratchpad_desc());
  from = Bound(src);
  to = Bound(dst);
}

void Reorder::Run(const void* src, void* dst) {
  Execute(prim, {{DNNL_ARG_FROM, from.At(src)}, {DNNL_ARG_TO, to.At(dst)}});
}

dnnl::memory::desc PlainDesc(const dims& shape, tag format) { return dnnl::memory::desc(shape, dt::f32, format); }

void RethrowAsNapi(const Napi::Env& env, const char* kernel) {
  const std::string prefix = std::string(kernel) + ": ";
  try {
    throw;
  } catch (const Napi::Error& e) {
    // Errors from argument unpacking already name the kernel; JS exceptions raised inside
    // N-API calls do not.
    if (e.Message().rfind(prefix, 0) == 0) throw;
    throw Napi::Error::New(env, prefix + e.Message());
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, prefix + "oneDNN: " + e.what() + " (status " + std::to_string(e.status) + ")");
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, prefix + "out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, prefix + e.what());
  } catch (...) {
    throw Napi::Error::New(env, prefix + "unknown C++ exception");
  }
}

}  // namespace al
