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

// A Float32Array argument; `nullable` accepts null/undefined as an empty view.
inline F32View ArgF32(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name,
                      bool nullable = false) {
  Napi::Value v = info[index];
  if (nullable && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Fail(info.Env(), kernel, std::string("expected a Float32Array for ") + name);
  }
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

inline BytesView ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Fail(info.Env(), kernel, std::string("expected a Uint8Array for ") + name);
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return {a.Data(), a.ElementLength()};
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

// Attribute fields of an attrs object.
inline int64_t AttrInt(const Napi::Object& attrs, const char* kernel, const char* key) {
  Napi::Value v = attrs.Get(key);
  if (!v.IsNumber()) Fail(attrs.Env(), kernel, std::string("expected an integer attribute ") + key);
  return v.As<Napi::Number>().Int64Value();
}

inline double AttrNumber(const Napi::Object& attrs, const char* kernel, const char* key) {
  Napi::Value v = attrs.Get(key);
  if (!v.IsNumber()) Fail(attrs.Env(), kernel, std::string("expected a number attribute ") + key);
  return v.As<Napi::Number>().DoubleValue();
}

inline bool AttrBool(const Napi::Object& attrs, const char* kernel, const char* key) {
  Napi::Value v = attrs.Get(key);
  if (!v.IsBoolean()) Fail(attrs.Env(), kernel, std::string("expected a boolean attribute ") + key);
  return v.As<Napi::Boolean>().Value();
}

// A shape attribute: an integer >= `min` (1 for sizes, 0 for paddings).
inline int64_t AttrDim(const Napi::Object& attrs, const char* kernel, const char* key, int64_t min = 1) {
  Napi::Value v = attrs.Get(key);
  if (!v.IsNumber()) Fail(attrs.Env(), kernel, std::string("expected an integer attribute ") + key);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min)) || d != static_cast<double>(static_cast<int64_t>(d)) || d > 9.0e15) {
    Fail(attrs.Env(), kernel,
         std::string("expected an integer >= ") + std::to_string(min) + " for attribute " + key + ", got " +
             v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

// A buffer must hold at least `needed` elements.
inline void RequireLength(const Napi::Env& env, const char* kernel, const char* name, size_t have, size_t needed) {
  if (have < needed) {
    Fail(env, kernel, std::string(name) + " holds " + std::to_string(have) + " elements, the shape needs " +
                          std::to_string(needed));
  }
}

}  // namespace al

#endif  // AL_NATIVE_NAPI_ARGS_H_
