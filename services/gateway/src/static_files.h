#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace tel::gateway {

// A file of the dashboard as it is sent.
struct StaticFile {
  std::shared_ptr<const std::string> body;
  std::shared_ptr<const std::string> gzipped;  // for compressible types; null otherwise
  std::string content_type;
  std::string cache_control;
};

// The built single-page dashboard (web/dist) served from one folder:
//  - a path naming a file under the folder gets that file with its content type; Vite's hashed
//    assets (/assets/...) are cached for a year as immutable, everything else is revalidated;
//  - a path whose last segment has no dot is a client-side route and gets index.html;
//  - anything that would leave the folder (.. segments, encoded or not, backslashes, NUL, symlinks
//    pointing outside) is refused.
// Files are kept in memory with their gzip form (made once, at the best level) and read again when
// their size or modification time changes, so a rebuilt dashboard is served without a restart.
// Thread-safe.
class StaticFiles {
 public:
  explicit StaticFiles(const std::filesystem::path& root);
  // The file for a decoded request path ("/calls", "/assets/index-3f2a.js"), or nullopt (404).
  std::optional<StaticFile> lookup(const std::string& path) const;

 private:
  struct Cached {
    std::filesystem::file_time_type modified;
    uintmax_t size = 0;
    std::shared_ptr<const std::string> body;
    std::shared_ptr<const std::string> gzipped;
  };
  std::optional<StaticFile> read(const std::filesystem::path& file) const;
  std::filesystem::path root_;  // canonical
  mutable std::mutex mutex_;
  mutable std::map<std::string, Cached> cache_;  // by canonical path; guarded by mutex_
};

// The Content-Type for a file name's extension; application/octet-stream when unknown.
std::string contentTypeFor(const std::string& file_name);

}  // namespace tel::gateway
