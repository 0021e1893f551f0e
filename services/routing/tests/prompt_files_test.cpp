// The prompts directory: its check at start, atomic replacement, reading and removal.
#include "prompt_files.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace tel::routing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kTenant = "7d0c6f2e-9b1a-4c1e-8f00-0123456789ab";

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/tel-prompts-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::vector<std::string> namesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the prompts directory is created when missing and must be an absolute, writable directory") {
  TempDir temp;
  const std::string nested = temp.path + "/a/b/prompts";
  REQUIRE(PromptFiles::prepareRoot(nested).ok());
  CHECK(fs::is_directory(nested));
  CHECK(namesIn(nested).empty());  // the probe file is gone
  CHECK(PromptFiles::prepareRoot(nested).ok());  // again: it exists

  CHECK(PromptFiles::prepareRoot("relative/prompts").message() == "must be an absolute path");
  CHECK(PromptFiles::prepareRoot("").message() == "must be an absolute path");
  std::ofstream(temp.path + "/file") << "x";
  CHECK_FALSE(PromptFiles::prepareRoot(temp.path + "/file").ok());
  CHECK_FALSE(PromptFiles::prepareRoot(temp.path + "/file/prompts").ok());
  CHECK(PromptFiles::prepareRoot("/proc/tel-prompts").message().find("cannot create") == 0);
}

TEST_CASE("a prompt file is replaced whole, with no temporary file left behind") {
  TempDir temp;
  PromptFiles files(temp.path);
  CHECK(files.pathOf(kTenant, "welcome") == temp.path + "/" + kTenant + "/welcome.wav");
  CHECK(files.read(kTenant, "welcome").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(files.write(kTenant, "welcome", "first").ok());
  CHECK(*files.read(kTenant, "welcome") == "first");
  REQUIRE(files.write(kTenant, "welcome", std::string(100000, 'z')).ok());
  CHECK(*files.read(kTenant, "welcome") == std::string(100000, 'z'));
  REQUIRE(files.write(kTenant, "menu", "").ok());
  CHECK(namesIn(temp.path + "/" + kTenant) == std::vector<std::string>{"menu.wav", "welcome.wav"});

  REQUIRE(files.remove(kTenant, "welcome").ok());
  CHECK(files.read(kTenant, "welcome").status().code() == absl::StatusCode::kNotFound);
  CHECK(files.remove(kTenant, "welcome").ok());  // already gone
  CHECK(files.remove("00000000-0000-0000-0000-000000000000", "welcome").ok());  // no tenant directory
  CHECK(namesIn(temp.path + "/" + kTenant) == std::vector<std::string>{"menu.wav"});
}

TEST_CASE("a write that cannot happen is an error and leaves nothing") {
  TempDir temp;
  PromptFiles files(temp.path);
  // The tenant's directory cannot be made: a file stands in its place.
  std::ofstream(temp.path + "/" + kTenant) << "x";
  CHECK_FALSE(files.write(kTenant, "welcome", "audio").ok());
  CHECK(namesIn(temp.path) == std::vector<std::string>{kTenant});
}
