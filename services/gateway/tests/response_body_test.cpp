#include "response_body.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <thread>

using namespace tel::gateway;

namespace {

std::string gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string out(data.size() * 20 + 1024, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  inflateEnd(&stream);
  REQUIRE(result == Z_STREAM_END);
  out.resize(stream.total_out);
  return out;
}

httplib::Request withAcceptEncoding(const std::string& value) {
  httplib::Request request;
  if (!value.empty()) request.set_header("Accept-Encoding", value);
  return request;
}

std::string largeJson() {
  std::string json = "{\"items\":[";
  for (int i = 0; i < 300; ++i)
    json += "{\"id\":\"call-" + std::to_string(i) + "\",\"disposition\":\"answered\"},";
  json.back() = ']';
  return json + "}";
}

}  // namespace

TEST_CASE("gzip output is a gzip stream of the input") {
  const std::string text = largeJson();
  const std::string packed = gzipCompress(text, 6);
  CHECK(packed.size() < text.size() / 4);
  CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
  CHECK(gunzip(packed) == text);
  CHECK(gunzip(gzipCompress("", 9)).empty());
}

TEST_CASE("Accept-Encoding is read with its q-values") {
  CHECK(acceptsGzip(withAcceptEncoding("gzip")));
  CHECK(acceptsGzip(withAcceptEncoding("gzip, deflate, br")));
  CHECK(acceptsGzip(withAcceptEncoding("br;q=1.0, GZIP;q=0.5")));
  CHECK(acceptsGzip(withAcceptEncoding("x-gzip")));
  CHECK_FALSE(acceptsGzip(withAcceptEncoding("")));
  CHECK_FALSE(acceptsGzip(withAcceptEncoding("br")));
  CHECK_FALSE(acceptsGzip(withAcceptEncoding("identity")));
  CHECK_FALSE(acceptsGzip(withAcceptEncoding("gzip;q=0")));
  CHECK_FALSE(acceptsGzip(withAcceptEncoding("gzipx, deflate")));
}

TEST_CASE("through cpp-httplib bodies are gzipped once by us and never by the library") {
  httplib::Server server;
  const std::string json = largeJson();
  server.Get("/api", [&](const httplib::Request& request, httplib::Response& response) {
    response.set_content(json, "application/json");
    finishBody(request, response);
  });
  server.Get("/small", [&](const httplib::Request& request, httplib::Response& response) {
    response.set_content("{\"ok\":true}", "application/json");
    finishBody(request, response);
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // The raw socket view: the client must not decompress for us.
  httplib::Client client("127.0.0.1", port);
  client.set_decompress(false);
  auto browser = client.Get("/api", {{"Accept-Encoding", "gzip, deflate, br"}});
  REQUIRE(browser);
  CHECK(browser->get_header_value("Content-Encoding") == "gzip");
  CHECK(browser->get_header_value_count("Content-Type") == 1);
  CHECK(browser->get_header_value("Content-Type") == "application/json");
  CHECK(browser->get_header_value("Vary") == "Accept-Encoding");
  CHECK(gunzip(browser->body) == json);

  auto brotli_only = client.Get("/api", {{"Accept-Encoding", "br"}});
  REQUIRE(brotli_only);
  CHECK(brotli_only->get_header_value("Content-Encoding").empty());
  CHECK(brotli_only->body == json);

  auto plain = client.Get("/api");
  REQUIRE(plain);
  CHECK(plain->get_header_value("Content-Encoding").empty());
  CHECK(plain->body == json);

  auto small = client.Get("/small", {{"Accept-Encoding", "gzip, br"}});
  REQUIRE(small);
  CHECK(small->get_header_value("Content-Encoding").empty());
  CHECK(small->body == "{\"ok\":true}");

  server.stop();
  thread.join();
}
