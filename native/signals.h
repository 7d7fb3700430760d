// Holding asynchronous signals back while native code that must not be interrupted runs.
//
// Why: oneDNN 2.6's f32 sgemm JIT kernels (jit_avx_gemm_f32, jit_avx512_common_gemm_f32), which
// matmul and gemm-based convolutions reach, point rsp at a heap workspace while they run, whenever
// a block of K is too long for their 16 KB stack buffer (K blocks of 256 > 252 with AVX2; the
// MLP's products at batch 128 qualify) (uxlfoundation/oneDNN#4845, fixed upstream by #4855;
// Debian's 2.6.3 has it). A signal handler that runs on that thread meanwhile (Node's
// SIGINT listener, the profiler's SIGPROF, a SIGUSR2 listener) has its frame pushed below the
// workspace, over the heap chunk in front of it: glibc later aborts with "corrupted size vs.
// prev_size" or "free(): invalid next size", or live data is silently overwritten.
//
// OpenMP worker threads are created by the thread that opens a parallel region and inherit its
// signal mask. So every oneDNN call and every parallel region of the addon runs inside a
// SignalsHeld: the calling thread gets the signals when the call returns, and the workers keep
// them blocked for good, so Linux can only deliver them to threads that are not in oneDNN.
// Cost: two pthread_sigmask calls per kernel call (about 0.1 us on bare metal, 1 us in a VM).
#ifndef AL_NATIVE_SIGNALS_H_
#define AL_NATIVE_SIGNALS_H_

#include <signal.h>

namespace al {

// Blocks every signal except those raised by faults of the running code itself (SIGSEGV,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) on the calling thread, for the object's lifetime.
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace al

#endif  // AL_NATIVE_SIGNALS_H_
