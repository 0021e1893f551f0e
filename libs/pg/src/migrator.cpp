#include "tel/pg/migrator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>

#include "tel/crypto/crypto.h"

namespace tel::pg {
namespace {

// Any constant will do; it only has to be the same for every migrating process.
constexpr int64_t kMigrationLockKey = 0x74656c6d6967;  // "telmig"

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::vector<MigrationFile>> listMigrations(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    return absl::NotFoundError("migrations directory " + directory + " does not exist");
  }
  static const std::regex kPattern(R"(^(\d{4})_[a-z0-9_]+\.sql$)");
  std::map<int, MigrationFile> by_version;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    std::smatch match;
    if (!std::regex_match(name, match, kPattern)) {
      return absl::InvalidArgumentError("migration file " + name +
                                        " does not follow NNNN_description.sql");
    }
    const int version = std::stoi(match[1]);
    if (by_version.contains(version)) {
      return absl::InvalidArgumentError("two migrations have version " + match[1].str());
    }
    by_version[version] = MigrationFile{version, name, entry.path().string()};
  }
  std::vector<MigrationFile> files;
  for (auto& [version, file] : by_version) files.push_back(std::move(file));
  return files;
}

absl::StatusOr<MigrationReport> applyMigrations(const std::string& database_url,
                                                const std::string& directory) {
  auto files = listMigrations(directory);
  if (!files.ok()) return files.status();
  MigrationReport report;
  try {
    pqxx::connection connection(database_url);
    pqxx::nontransaction session(connection);
    session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    session.exec(
        "CREATE TABLE IF NOT EXISTS tel_schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::map<int, std::pair<std::string, std::string>> applied;
    for (const auto& row : session.exec("SELECT version, name, checksum FROM tel_schema_migrations")) {
      applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
    session.commit();

    absl::Status problem = absl::OkStatus();
    for (const auto& file : *files) {
      const std::string sql = readFile(file.path);
      const std::string checksum = crypto::sha256Hex(sql);
      if (auto it = applied.find(file.version); it != applied.end()) {
        if (it->second.second != checksum) {
          problem = absl::FailedPreconditionError(
              "migration " + file.name + " was changed after it was applied; add a new migration "
              "instead");
          break;
        }
        ++report.already_applied;
        continue;
      }
      pqxx::work txn(connection);
      txn.exec(sql);
      txn.exec_params("INSERT INTO tel_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                      file.version, file.name, checksum);
      txn.commit();
      report.applied.push_back(file.name);
    }
    pqxx::nontransaction unlock(connection);
    unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    if (!problem.ok()) return problem;
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("migration failed: ") + e.what());
  }
  return report;
}

}  // namespace tel::pg
