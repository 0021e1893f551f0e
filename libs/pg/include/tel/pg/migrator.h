#pragma once

#include <absl/status/statusor.h>

#include <string>
#include <vector>

namespace tel::pg {

struct MigrationFile {
  int version = 0;
  std::string name;  // file name
  std::string path;
};

// Lists NNNN_description.sql files of a directory in version order. Files that do not follow the
// pattern or repeat a version are an error, not silently skipped.
absl::StatusOr<std::vector<MigrationFile>> listMigrations(const std::string& directory);

struct MigrationReport {
  std::vector<std::string> applied;  // file names applied by this run
  size_t already_applied = 0;
};

// Applies the migrations of `directory` that the database has not seen, each in its own
// transaction together with its row in tel_schema_migrations. Runs under an advisory lock so that
// concurrent runs (several replicas starting) apply each migration once. An applied migration
// whose file changed since is reported as an error: migrations are append-only.
absl::StatusOr<MigrationReport> applyMigrations(const std::string& database_url,
                                                const std::string& directory);

}  // namespace tel::pg
