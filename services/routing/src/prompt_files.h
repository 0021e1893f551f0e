#pragma once

#include <absl/status/statusor.h>

#include <string>
#include <string_view>

namespace tel::routing {

// The prompts directory, as media-relay reads it (a fixed contract):
//   <root>/<tenant_id>/<name>.wav
// Files are replaced atomically: written to <name>.wav.tmp-<random> in the same directory, synced,
// renamed over the old one, and the directory synced, so a reader opens either the old file or
// the new one, whole, even across a crash. Callers pass a tenant id that is a UUID and a name that
// passed validPromptName(): neither can contain '/' or "..". Thread-safe (no state but the root);
// concurrent writers of one prompt are ordered by the caller (the catalog row's lock).
class PromptFiles {
 public:
  explicit PromptFiles(std::string root) : root_(std::move(root)) {}

  // At start: `root` must be an absolute path; it is created (with its parents) when missing, and
  // a probe file is written and removed to show that it is writable. The error says why not.
  static absl::Status prepareRoot(const std::string& root);

  std::string pathOf(const std::string& tenant_id, const std::string& name) const;

  absl::Status write(const std::string& tenant_id, const std::string& name, std::string_view wav) const;
  // NOT_FOUND when there is no file.
  absl::StatusOr<std::string> read(const std::string& tenant_id, const std::string& name) const;
  // Removes the file; a file that is not there is not an error.
  absl::Status remove(const std::string& tenant_id, const std::string& name) const;

 private:
  std::string root_;
};

}  // namespace tel::routing
