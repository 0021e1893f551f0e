#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tel/pg/migrator.h"

namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tel-mig-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  void add(const std::string& name) { std::ofstream(path / name) << "SELECT 1;"; }
};
}  // namespace

TEST_CASE("migrations are listed in version order") {
  TempDir dir;
  dir.add("0002_second.sql");
  dir.add("0001_first.sql");
  dir.add("README.md");
  auto files = tel::pg::listMigrations(dir.path.string());
  REQUIRE(files.ok());
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].name == "0001_first.sql");
  CHECK((*files)[1].version == 2);
}

TEST_CASE("badly named or duplicate migrations are refused") {
  TempDir bad_name;
  bad_name.add("1_first.sql");
  CHECK_FALSE(tel::pg::listMigrations(bad_name.path.string()).ok());

  TempDir duplicate;
  duplicate.add("0001_a.sql");
  duplicate.add("0001_b.sql");
  CHECK_FALSE(tel::pg::listMigrations(duplicate.path.string()).ok());

  CHECK_FALSE(tel::pg::listMigrations("/nonexistent/dir").ok());
}
