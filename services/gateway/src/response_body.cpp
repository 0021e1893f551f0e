#include "response_body.h"

#include <zlib.h>

#include <stdexcept>

namespace tel::gateway {
namespace {

constexpr size_t kCompressFrom = 1024;

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string gzipCompress(std::string_view data, int level) {
  z_stream stream{};
  // 15 window bits + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(stream.total_out);
  return out;
}

bool acceptsGzip(const httplib::Request& request) {
  const std::string header = lower(request.get_header_value("Accept-Encoding"));
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(',', at);
    if (end == std::string::npos) end = header.size();
    std::string item = header.substr(at, end - at);
    at = end + 1;
    item.erase(0, item.find_first_not_of(' '));
    const size_t semicolon = item.find(';');
    std::string coding = item.substr(0, semicolon);
    coding.erase(coding.find_last_not_of(' ') + 1);
    if (coding != "gzip" && coding != "x-gzip") continue;
    if (semicolon == std::string::npos) return true;
    const std::string params = item.substr(semicolon);
    const size_t q = params.find("q=");
    if (q == std::string::npos) return true;
    return std::strtod(params.c_str() + q + 2, nullptr) > 0;
  }
  return false;
}

bool compressible(const std::string& content_type) {
  return content_type.rfind("text/", 0) == 0 || content_type.rfind("application/json", 0) == 0 ||
         content_type.rfind("image/svg+xml", 0) == 0 ||
         content_type.rfind("application/manifest+json", 0) == 0;
}

void sendBody(const httplib::Request& request, httplib::Response& response,
              std::shared_ptr<const std::string> body, std::shared_ptr<const std::string> gzipped,
              const std::string& content_type) {
  response.headers.erase("Content-Type");
  response.headers.erase("Content-Encoding");
  response.body.clear();
  if (gzipped) {
    if (!response.has_header("Vary")) response.set_header("Vary", "Accept-Encoding");
    if (acceptsGzip(request)) {
      response.set_header("Content-Encoding", "gzip");
      body = std::move(gzipped);
    }
  }
  const size_t size = body->size();
  response.set_content_provider(
      size, content_type,
      [body = std::move(body)](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body->data() + offset, length);
      });
}

void finishBody(const httplib::Request& request, httplib::Response& response) {
  if (response.body.empty()) return;
  const std::string type = response.get_header_value("Content-Type");
  auto body = std::make_shared<const std::string>(std::move(response.body));
  std::shared_ptr<const std::string> gzipped;
  if (body->size() >= kCompressFrom && compressible(type)) {
    response.set_header("Vary", "Accept-Encoding");
    if (acceptsGzip(request)) gzipped = std::make_shared<const std::string>(gzipCompress(*body, 6));
  }
  sendBody(request, response, std::move(body), std::move(gzipped), type);
}

}  // namespace tel::gateway
