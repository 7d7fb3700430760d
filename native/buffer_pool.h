// Buffers for activations that are allocated afresh every training step.
#pragma once

#include <napi.h>

namespace al {

// pooledArrayBuffer(bytes): an ArrayBuffer of `bytes` uninitialised bytes whose memory, once V8
// frees the buffer (on whatever thread holds it then), goes back to a pool to serve the next
// request of the same size.
Napi::Value PooledArrayBuffer(const Napi::CallbackInfo& info);

// zeroedArrayBuffer(bytes): an ArrayBuffer of `bytes` zero bytes (weights, optimizer moments) on
// memory advised for huge pages, which also goes to the pool once freed.
Napi::Value ZeroedArrayBuffer(const Napi::CallbackInfo& info);

// bufferPoolStats(): { pooledBytes, buffers, hits, misses, expired } of the process-wide pool.
Napi::Value BufferPoolStats(const Napi::CallbackInfo& info);

}  // namespace al
