#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <string_view>

namespace tel::gateway {

// gzip (RFC 1952) of `data`; throws std::runtime_error if zlib fails.
std::string gzipCompress(std::string_view data, int level);

// True when the request's Accept-Encoding admits gzip (and does not refuse it with q=0).
bool acceptsGzip(const httplib::Request& request);

// Worth compressing: text, scripts, JSON, SVG.
bool compressible(const std::string& content_type);

// Sends `body` (or `gzipped`, when given and the client takes gzip) as the response's content,
// with Content-Encoding and Vary set accordingly.
//
// Why not leave it to cpp-httplib: Debian's build compresses every body itself whenever the client
// accepts it, preferring brotli at its slowest setting, which cost ~240 ms for the dashboard's
// 176 KB script and ~20 ms for a 9 KB page of calls on this project's machines. Content sent
// through a provider of known length is left alone by the library, so the gateway decides: gzip,
// fast for API answers, and computed once for the dashboard's files.
void sendBody(const httplib::Request& request, httplib::Response& response,
              std::shared_ptr<const std::string> body, std::shared_ptr<const std::string> gzipped,
              const std::string& content_type);

// The same for a body a handler already put into the response with set_content(): API answers of
// 1 KiB or more are gzipped (level 6) for clients that take it; smaller ones go as they are.
void finishBody(const httplib::Request& request, httplib::Response& response);

}  // namespace tel::gateway
