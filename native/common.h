// Shared machinery of the oneDNN kernels: the engine, a stream and a primitive cache per thread,
// thread-count control, zero-copy wrapping of user buffers and error translation.
//
// Thread model: Node may call the addon from the main thread and from any number of
// worker_threads at once. The engine is immutable after creation and shared; everything that is
// mutated during a call (stream, cached primitives, their memory objects, scratch buffers) is
// thread_local, so two JS threads never touch the same object.
#ifndef AL_NATIVE_COMMON_H_
#define AL_NATIVE_COMMON_H_

#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "signals.h"
#include "subnormals.h"

namespace al {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

const dnnl::engine& Engine();
dnnl::stream& Stream();

// Threads oneDNN's OpenMP runtime uses for primitives run from the calling thread, at most
// kMaxThreads. Far above the cores nothing is gained, and the OpenMP runtime does not fail cleanly:
// 65536 threads crash the process in the next kernel (each thread's stack alone is 4 MB+ of
// address space). 1024 is many times any core count this runs on.
constexpr int kMaxThreads = 1024;
void SetNumThreads(int n);
int GetNumThreads();
std::string CpuIsaName();

// Primitives are created for one shape, one set of attributes and one thread count (oneDNN
// picks its blocking for the number of threads it will run on), so all three go into the key.
struct CacheKey {
  static constexpr size_t kMaxValues = 24;
  std::string_view kernel;  // always a string literal, so the view never dangles
  std::array<int64_t, kMaxValues> values{};
  size_t count = 0;

  CacheKey(std::string_view kernel_name) : kernel(kernel_name) {}
  CacheKey& Add(int64_t v);
  CacheKey& AddFloat(float v);  // by bit pattern: eps=1e-5 and eps=1e-5f+ulp are different primitives

  bool operator==(const CacheKey& other) const {
    return kernel == other.kernel && count == other.count &&
           std::memcmp(values.data(), other.values.data(), count * sizeof(int64_t)) == 0;
  }
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const noexcept;
};

// What a kernel keeps between calls for one key: primitives, their memory objects and any
// internal buffers. Kernel files derive from it.
struct CacheEntry {
  virtual ~CacheEntry() = default;
};

CacheEntry* FindEntry(const CacheKey& key);
CacheEntry* StoreEntry(const CacheKey& key, std::unique_ptr<CacheEntry> entry);

// The calling thread's entry for `key`, built by `make` on first use.
template <typename Entry, typename Make>
Entry* Cached(const CacheKey& key, Make&& make) {
  if (CacheEntry* found = FindEntry(key)) return static_cast<Entry*>(found);
  return static_cast<Entry*>(StoreEntry(key, make()));
}

size_t CacheSize();  // entries held by the calling thread
void ClearCache();   // the calling thread's entries and scratch buffers

// Growable, 64-byte aligned buffers owned by the calling thread, for data a kernel needs only
// during one call (oneDNN scratchpads, weights and activations in blocked layouts). Slots let
// one call hold several at once. Contents are undefined on return; the pointer is stable until
// a later call asks the same slot for more bytes.
enum class Scratch : int { kScratchpad = 0, kWeights, kSrc, kDst, kCount };
void* ScratchBuffer(Scratch slot, size_t bytes);

// A memory object whose data pointer is re-pointed on every call. Re-pointing only when the
// pointer changed keeps oneDNN from re-zeroing padded blocked buffers on every call.
class Bound {
 public:
  Bound() = default;
  explicit Bound(const dnnl::memory::desc& md) : md_(md), mem_(md, Engine(), DNNL_MEMORY_NONE) {}

  dnnl_memory_t At(const void* data) {
    if (data != current_) {
      mem_.set_data_handle(const_cast<void*>(data));
      current_ = data;
    }
    return mem_.get();
  }
  const dnnl::memory& memory() const { return mem_; }
  const dnnl::memory::desc& desc() const { return md_; }
  size_t bytes() const { return md_.get_size(); }
  explicit operator bool() const { return static_cast<bool>(mem_); }

 private:
  dnnl::memory::desc md_;
  dnnl::memory mem_;
  const void* current_ = nullptr;
};

// A primitive with a user-mode scratchpad: the scratchpad comes from the thread's scratch slot,
// so cached primitives do not each pin their own scratch memory.
struct Prim {
  dnnl::primitive prim;
  Bound scratchpad;
  size_t scratchpad_bytes = 0;

  Prim() = default;
  Prim(const dnnl::primitive& p, const dnnl::memory::desc& scratchpad_md)
      : prim(p), scratchpad(scratchpad_md), scratchpad_bytes(scratchpad_md.get_size()) {}
  explicit operator bool() const { return static_cast<bool>(prim); }
};

// Attributes every primitive is created with.
dnnl::primitive_attr UserScratchpadAttr();

// Runs `p` on the thread's stream. Arguments go through the C API as a stack array: building
// the C++ API's unordered_map per call costs more than a tiny primitive itself.
struct ExecArg {
  int arg;
  dnnl_memory_t mem;
};
// A null `mem` means the argument is absent (e.g. no bias) and is skipped.
void Execute(Prim& p, std::initializer_list<ExecArg> args);

// A reorder between two memory descriptors, or nothing when they are equal.
struct Reorder {
  Prim prim;
  Bound from;
  Bound to;

  Reorder() = default;
  Reorder(const dnnl::memory::desc& src, const dnnl::memory::desc& dst);
  explicit operator bool() const { return static_cast<bool>(prim); }
  void Run(const void* src, void* dst);
};

// Plain row-major descriptors for user buffers.
dnnl::memory::desc PlainDesc(const dims& shape, tag format);

[[noreturn]] void RethrowAsNapi(const Napi::Env& env, const char* kernel);

// Runs `body` with signals held (every oneDNN call of the addon goes through here: see
// signals.h) and turns every C++ error into a Napi::Error whose message starts with `kernel`.
template <typename Body>
Napi::Value Guarded(const Napi::CallbackInfo& info, const char* kernel, Body&& body) {
  try {
    SignalsHeld held;
    SubnormalsFlushed flushed;
    return body();
  } catch (...) {
    RethrowAsNapi(info.Env(), kernel);
  }
}

}  // namespace al

#endif  // AL_NATIVE_COMMON_H_
