#include "prompt_files.h"

#include <absl/strings/str_cat.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tel/crypto/crypto.h"

namespace tel::routing {
namespace {

// Prompt files are at most 10 minutes of 8 kHz 16-bit audio (9.6 MB); anything far larger in the
// directory is not one of ours and is not read into memory.
constexpr off_t kMaxFileBytes = 16 << 20;

absl::Status systemError(const char* what, const std::string& path, int error) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

absl::Status writeAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return systemError("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// The rename is durable only once the directory entry is on disk too.
absl::Status syncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return systemError("open", dir, errno);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  return synced == 0 ? absl::OkStatus() : systemError("fsync", dir, error);
}

absl::Status ensureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0750) == 0 || errno == EEXIST) return absl::OkStatus();
  return systemError("mkdir", dir, errno);
}

// Writes `bytes` to a new file at `path` (which must not exist) and syncs it.
absl::Status writeNewFile(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return systemError("create", path, errno);
  absl::Status status = writeAll(fd, bytes, path);
  if (status.ok() && ::fsync(fd) != 0) status = systemError("fsync", path, errno);
  if (::close(fd) != 0 && status.ok()) status = systemError("close", path, errno);
  return status;
}

}  // namespace

absl::Status PromptFiles::prepareRoot(const std::string& root) {
  if (root.empty() || root.front() != '/') return absl::InvalidArgumentError("must be an absolute path");
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("cannot create ", root, ": ", error.message()));
  if (!std::filesystem::is_directory(root, error)) {
    return absl::InvalidArgumentError(absl::StrCat(root, " is not a directory"));
  }
  const std::string probe = absl::StrCat(root, "/.write-probe-", crypto::randomAlphanumeric(12));
  if (auto written = writeNewFile(probe, "probe"); !written.ok()) {
    ::unlink(probe.c_str());
    return absl::InvalidArgumentError(absl::StrCat("not writable: ", written.message()));
  }
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

std::string PromptFiles::pathOf(const std::string& tenant_id, const std::string& name) const {
  return absl::StrCat(root_, "/", tenant_id, "/", name, ".wav");
}

absl::Status PromptFiles::write(const std::string& tenant_id, const std::string& name, std::string_view wav) const {
  const std::string dir = absl::StrCat(root_, "/", tenant_id);
  if (auto made = ensureDirectory(dir); !made.ok()) return made;
  const std::string path = pathOf(tenant_id, name);
  // The temporary name ends in neither ".wav" nor anything media-relay looks for.
  const std::string temporary = absl::StrCat(path, ".tmp-", crypto::randomAlphanumeric(12));
  absl::Status status = writeNewFile(temporary, wav);
  if (status.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) status = systemError("rename", temporary, errno);
  if (!status.ok()) {
    ::unlink(temporary.c_str());
    return status;
  }
  return syncDirectory(dir);
}

absl::StatusOr<std::string> PromptFiles::read(const std::string& tenant_id, const std::string& name) const {
  const std::string path = pathOf(tenant_id, name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return systemError("open", path, errno);
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size > kMaxFileBytes) {
    ::close(fd);
    return absl::InternalError(absl::StrCat(path, ": cannot stat, or larger than any prompt"));
  }
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    filled += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(filled);  // a file cut short since the fstat is read as it now is
  return bytes;
}

absl::Status PromptFiles::remove(const std::string& tenant_id, const std::string& name) const {
  const std::string path = pathOf(tenant_id, name);
  if (::unlink(path.c_str()) != 0) return errno == ENOENT ? absl::OkStatus() : systemError("unlink", path, errno);
  return syncDirectory(absl::StrCat(root_, "/", tenant_id));
}

}  // namespace tel::routing
