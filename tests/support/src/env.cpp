#include "tel/testing/env.h"

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace tel::testing {

std::string requireEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(name + " is not set: run the tests through ./tel test (or eval "
                             "\"$(./tel env)\" after ./tel up)");
  }
  return value;
}

std::string uniqueSuffix(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::mt19937_64 generator(device());
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string suffix;
  for (size_t i = 0; i < length; ++i) suffix += kAlphabet[pick(generator)];
  return suffix;
}

}  // namespace tel::testing
