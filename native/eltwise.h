// Activations through oneDNN's eltwise primitives, in the variants whose backward pass reads
// the forward output: a layer then keeps only y, not x, for its backward step.
#ifndef AL_NATIVE_ELTWISE_H_
#define AL_NATIVE_ELTWISE_H_

#include <napi.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace al {

// An activation as oneDNN runs it here: the variant whose backward reads the forward output.
struct Activation {
  dnnl::algorithm alg;
  float alpha;  // oneDNN's alpha: ELU's alpha; relu's negative slope, fixed at 0
};

// 'relu' | 'elu' | 'sigmoid' | 'tanh' with its alpha (ELU's, >= 0: the dst-based ELU backward
// recovers x from y, which needs it); otherwise fails naming `kind_arg` or `alpha_arg`.
Activation ActivationNamed(const Napi::Env& env, const char* kernel, const std::string& name, double alpha,
                           const char* kind_arg, const char* alpha_arg);

// activationForward(kind, x, y, alpha)
Napi::Value ActivationForward(const Napi::CallbackInfo& info);
// activationBackward(kind, y, dy, dx, alpha)
Napi::Value ActivationBackward(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_ELTWISE_H_
