// Seeded draws for weight initialisation, registered on the addon's exports by addon.cc.
#ifndef AL_NATIVE_RANDOM_H_
#define AL_NATIVE_RANDOM_H_

#include <napi.h>

namespace al {

void InitRandom(Napi::Env env, Napi::Object exports);

}  // namespace al

#endif  // AL_NATIVE_RANDOM_H_
