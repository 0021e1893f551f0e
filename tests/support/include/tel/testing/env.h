#pragma once

#include <string>

namespace tel::testing {

// The value of a TEL_* variable that `./tel env` exports for tests; throws (failing the test,
// never skipping it) when the local stack was not set up.
std::string requireEnv(const std::string& name);

// A random lowercase suffix that keeps names of one test run apart from every other run's.
std::string uniqueSuffix(size_t length = 10);

}  // namespace tel::testing
