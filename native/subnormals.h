// Subnormal floats flushed to zero while a kernel runs (SubnormalsFlushed).
#ifndef AL_NATIVE_SUBNORMALS_H_
#define AL_NATIVE_SUBNORMALS_H_

namespace al {

// Flush-to-zero and denormals-are-zero for the length of a kernel call, on the calling thread;
// the OpenMP threads it starts inherit them (POSIX pthread_create) and keep them, as they run
// nothing else. Training produces subnormals (a dead ReLU unit's gradients and Adam moments decay
// into them) and, on x86, an operation on one can take a microcode assist of a hundred cycles or
// more: a run slowed as it went. Values below 1.2e-38 become zero, the same on every thread, so
// pipelined and sequential runs stay identical. The previous mode comes back when the call returns:
// JavaScript on the same thread keeps IEEE arithmetic (5e-324 > 0).
class SubnormalsFlushed {
 public:
  SubnormalsFlushed();
  ~SubnormalsFlushed();
  SubnormalsFlushed(const SubnormalsFlushed&) = delete;
  SubnormalsFlushed& operator=(const SubnormalsFlushed&) = delete;

 private:
  [[maybe_unused]] unsigned int previous_ = 0;
};

}  // namespace al

#endif  // AL_NATIVE_SUBNORMALS_H_
