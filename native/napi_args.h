// Unpacking of kernel arguments: Float32Array views, integers and attribute objects.
// Every failure throws a Napi::Error whose message starts with the kernel name, so the TS side
// can report which kernel and which argument was wrong. Shapes are checked in TS first; these
// checks only guard the C++ invariants (a buffer must hold what the shape says).
#ifndef AL_NATIVE_NAPI_ARGS_H_
#define AL_NATIVE_NAPI_ARGS_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace al {

struct F32View {
  float* data = nullptr;
  size_t length = 0;
};

struct BytesView {
  uint8_t* data = nullptr;
  size_t length = 0;
};

[[noreturn]] inline void Fail(const Napi::Env& env, const char* kernel, const std::string& what) {
  throw Napi::Error::New(env, std::string(kernel) + ": " + what);
}

// One napi_get_typedarray_info call answers "is it a typed array, of which type, where, how
// long": the Napi::TypedArray wrappers make three calls for the same, which shows up in the
// per-call cost of tiny kernels.
inline bool TypedArrayArg(const Napi::CallbackInfo& info, size_t index, napi_typedarray_type want, void** data,
                          size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(info.Env(), info[index], &type, length, data, &buffer, &offset) != napi_ok) {
    return false;
  }
  return type == want;
}

// A Float32Array argument; `nullable` accepts null/undefined as an empty view.
inline F32View ArgF32(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name,
                      bool nullable = false) {
  F32View view;
  void* data = nullptr;
  if (TypedArrayArg(info, index, napi_float32_array, &data, &view.length)) {
    view.data = static_cast<float*>(data);
    return view;
  }
  Napi::Value v = info[index];
  if (nullable && (v.IsNull() || v.IsUndefined())) return {};
  Fail(info.Env(), kernel, std::string("expected a Float32Array for ") + name);
}

inline BytesView ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  BytesView view;
  void* data = nullptr;
  if (!TypedArrayArg(info, index, napi_uint8_array, &data, &view.length)) {
    Fail(info.Env(), kernel, std::string("expected a Uint8Array for ") + name);
  }
  view.data = static_cast<uint8_t*>(data);
  return view;
}

inline int32_t* ArgI32(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name,
                       size_t* length) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Fail(info.Env(), kernel, std::string("expected an Int32Array for ") + name);
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  *length = a.ElementLength();
  return a.Data();
}

inline double ArgNumber(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) Fail(info.Env(), kernel, std::string("expected a number for ") + name);
  return v.As<Napi::Number>().DoubleValue();
}

inline int64_t ArgInt(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) Fail(info.Env(), kernel, std::string("expected an integer for ") + name);
  return v.As<Napi::Number>().Int64Value();
}

inline std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsString()) Fail(info.Env(), kernel, std::string("expected a string for ") + name);
  return v.As<Napi::String>().Utf8Value();
}

inline Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsObject()) Fail(info.Env(), kernel, std::string("expected an attributes object for ") + name);
  return v.As<Napi::Object>();
}

// Attribute names as JS strings made once per thread. napi_get_named_property would create
// and internalize the name from UTF-8 on every call, which was most of the binding's per-call
// cost for tiny kernels. Node-API 8 cannot reference a string directly, so the names live in a
// referenced array. A thread runs one Node environment at a time (the main thread or one
// worker), so everything is dropped when a different environment shows up.
inline napi_value AttrKey(napi_env env, const char* key) {
  struct Keys {
    napi_env env = nullptr;
    napi_ref holder = nullptr;
    std::unordered_map<const char*, uint32_t> index;  // keyed by the literal's address
  };
  thread_local Keys keys;
  if (keys.env != env) {
    keys.env = env;
    keys.holder = nullptr;
    keys.index.clear();
  }
  napi_value holder = nullptr;
  if (keys.holder == nullptr) {
    NAPI_THROW_IF_FAILED(env, napi_create_array(env, &holder), nullptr);
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, holder, 1, &keys.holder), nullptr);
  } else {
    NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, keys.holder, &holder), nullptr);
  }
  napi_value value = nullptr;
  auto it = keys.index.find(key);
  if (it != keys.index.end()) {
    NAPI_THROW_IF_FAILED(env, napi_get_element(env, holder, it->second, &value), nullptr);
    return value;
  }
  const uint32_t slot = static_cast<uint32_t>(keys.index.size());
  NAPI_THROW_IF_FAILED(env, napi_create_string_utf8(env, key, NAPI_AUTO_LENGTH, &value), nullptr);
  NAPI_THROW_IF_FAILED(env, napi_set_element(env, holder, slot, value), nullptr);
  keys.index.emplace(key, slot);
  return value;
}

inline napi_value AttrValue(const Napi::Object& attrs, const char* key) {
  napi_value value;
  NAPI_THROW_IF_FAILED(attrs.Env(), napi_get_property(attrs.Env(), attrs, AttrKey(attrs.Env(), key), &value), nullptr);
  return value;
}

// Attribute fields of an attrs object.
inline int64_t AttrInt(const Napi::Object& attrs, const char* kernel, const char* key) {
  int64_t out;
  if (napi_get_value_int64(attrs.Env(), AttrValue(attrs, key), &out) != napi_ok) {
    Fail(attrs.Env(), kernel, std::string("expected an integer attribute ") + key);
  }
  return out;
}

inline double AttrNumber(const Napi::Object& attrs, const char* kernel, const char* key) {
  double out;
  if (napi_get_value_double(attrs.Env(), AttrValue(attrs, key), &out) != napi_ok) {
    Fail(attrs.Env(), kernel, std::string("expected a number attribute ") + key);
  }
  return out;
}

inline bool AttrBool(const Napi::Object& attrs, const char* kernel, const char* key) {
  bool out;
  if (napi_get_value_bool(attrs.Env(), AttrValue(attrs, key), &out) != napi_ok) {
    Fail(attrs.Env(), kernel, std::string("expected a boolean attribute ") + key);
  }
  return out;
}

// Whether an optional attribute is given (not undefined).
inline bool AttrPresent(const Napi::Object& attrs, const char* key) {
  napi_valuetype type;
  NAPI_THROW_IF_FAILED(attrs.Env(), napi_typeof(attrs.Env(), AttrValue(attrs, key), &type), false);
  return type != napi_undefined;
}

// An optional boolean attribute: false when absent.
inline bool AttrFlag(const Napi::Object& attrs, const char* kernel, const char* key) {
  return AttrPresent(attrs, key) && AttrBool(attrs, kernel, key);
}

// A shape attribute: an integer >= `min` (1 for sizes, 0 for paddings).
inline int64_t AttrDim(const Napi::Object& attrs, const char* kernel, const char* key, int64_t min = 1) {
  napi_value v = AttrValue(attrs, key);
  double d;
  if (napi_get_value_double(attrs.Env(), v, &d) != napi_ok) {
    Fail(attrs.Env(), kernel, std::string("expected an integer attribute ") + key);
  }
  if (!(d >= static_cast<double>(min)) || d > 9.0e15 || d != static_cast<double>(static_cast<int64_t>(d))) {
    Fail(attrs.Env(), kernel,
         std::string("expected an integer >= ") + std::to_string(min) + " for attribute " + key + ", got " +
             Napi::Value(attrs.Env(), v).ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

// A buffer must hold at least `needed` elements.
inline void RequireLength(const Napi::Env& env, const char* kernel, const char* name, size_t have, size_t needed) {
  if (have < needed) {
    Fail(env, kernel,
         std::string(name) + " holds " + std::to_string(have) + " elements, the shape needs " + std::to_string(needed));
  }
}

}  // namespace al

#endif  // AL_NATIVE_NAPI_ARGS_H_
