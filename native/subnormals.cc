#include "subnormals.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace al {

#if defined(__SSE2__)
SubnormalsFlushed::SubnormalsFlushed() : previous_(_mm_getcsr()) {
  _mm_setcsr(previous_ | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON);
}

SubnormalsFlushed::~SubnormalsFlushed() { _mm_setcsr(previous_); }
#else
SubnormalsFlushed::SubnormalsFlushed() = default;
SubnormalsFlushed::~SubnormalsFlushed() = default;
#endif

}  // namespace al
