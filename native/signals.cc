#include "signals.h"

#include <pthread.h>

#include <initializer_list>

namespace al {
namespace {

const sigset_t& HeldSignals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigfillset(&s);
    for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) sigdelset(&s, fault);
    return s;
  }();
  return set;
}

}  // namespace

SignalsHeld::SignalsHeld() { pthread_sigmask(SIG_BLOCK, &HeldSignals(), &previous_); }

SignalsHeld::~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

}  // namespace al
