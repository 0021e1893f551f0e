#include "static_files.h"

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "response_body.h"

namespace tel::gateway {
namespace {

constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kRevalidate = "no-cache";

// True when every segment is a plain name: no "..", ".", empty segments, backslashes or control
// characters. The path is already percent-decoded, so "%2e%2e" arrives here as "..".
bool safeRelativePath(const std::string& path) {
  if (path.empty() || path.front() != '/') return false;
  std::string segment;
  for (size_t i = 1; i <= path.size(); ++i) {
    const char c = i < path.size() ? path[i] : '/';
    if (c == '/') {
      if (segment == "." || segment == "..") return false;
      if (segment.empty() && i != path.size()) return false;
      segment.clear();
      continue;
    }
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    segment += c;
  }
  return true;
}

}  // namespace

std::string contentTypeFor(const std::string& file_name) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  };
  const auto dot = file_name.rfind('.');
  if (dot == std::string::npos) return "application/octet-stream";
  auto found = kTypes.find(file_name.substr(dot));
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

StaticFiles::StaticFiles(const std::filesystem::path& root) {
  std::error_code error;
  root_ = std::filesystem::canonical(root, error);
  if (error || !std::filesystem::is_directory(root_)) {
    throw std::runtime_error("dashboard folder " + root.string() + " does not exist");
  }
}

std::optional<StaticFile> StaticFiles::read(const std::filesystem::path& file) const {
  // Resolve symlinks and check the result is still inside the folder.
  std::error_code error;
  const auto real = std::filesystem::canonical(file, error);
  if (error || !std::filesystem::is_regular_file(real, error)) return std::nullopt;
  const auto relative = real.lexically_relative(root_);
  if (relative.empty() || *relative.begin() == "..") return std::nullopt;
  const auto modified = std::filesystem::last_write_time(real, error);
  const auto size = std::filesystem::file_size(real, error);
  if (error) return std::nullopt;
  StaticFile out;
  {
    std::lock_guard lock(mutex_);
    auto found = cache_.find(real.string());
    if (found != cache_.end() && found->second.modified == modified && found->second.size == size) {
      out.body = found->second.body;
      out.gzipped = found->second.gzipped;
    }
  }
  if (!out.body) {
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    out.body = std::make_shared<const std::string>(body.str());
    if (compressible(contentTypeFor(real.filename().string())) && out.body->size() >= 256) {
      out.gzipped = std::make_shared<const std::string>(gzipCompress(*out.body, 9));
    }
    std::lock_guard lock(mutex_);
    cache_[real.string()] = Cached{modified, size, out.body, out.gzipped};
  }
  out.content_type = contentTypeFor(real.filename().string());
  out.cache_control = *relative.begin() == "assets" ? kImmutable : kRevalidate;
  return out;
}

std::optional<StaticFile> StaticFiles::lookup(const std::string& path) const {
  if (!safeRelativePath(path)) return std::nullopt;
  const std::string relative = path.substr(1);
  if (!relative.empty() && relative.back() != '/') {
    if (auto file = read(root_ / relative)) return file;
  }
  // A client-side route (no extension in its last segment) gets the app; a missing file does not.
  const std::string last =
      relative.substr(relative.rfind('/') == std::string::npos ? 0 : relative.rfind('/') + 1);
  if (last.find('.') != std::string::npos) return std::nullopt;
  if (relative.rfind("assets/", 0) == 0) return std::nullopt;
  auto index = read(root_ / "index.html");
  if (index) index->cache_control = kRevalidate;
  return index;
}

}  // namespace tel::gateway
