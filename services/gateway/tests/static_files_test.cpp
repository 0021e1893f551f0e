#include "static_files.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using tel::gateway::StaticFiles;

namespace {

// A dashboard folder like Vite's output, with a secret next to it that must never be served.
struct Site {
  fs::path base;
  fs::path root;
  Site() {
    base = fs::temp_directory_path() / ("tel-static-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "dist";
    fs::create_directories(root / "assets");
    write(root / "index.html", "<!doctype html><title>tel</title>");
    write(root / "assets" / "index-3f2a9c.js", "console.log(1)");
    write(root / "assets" / "index-77aa01.css", "body{}");
    write(root / "favicon.svg", "<svg/>");
    write(base / "secret.txt", "top secret");
    fs::create_symlink(base / "secret.txt", root / "leak.txt");
  }
  ~Site() { fs::remove_all(base); }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
};

}  // namespace

TEST_CASE("static files are served with their content type and cache policy") {
  Site site;
  StaticFiles files(site.root);
  auto script = files.lookup("/assets/index-3f2a9c.js");
  REQUIRE(script);
  CHECK(*script->body == "console.log(1)");
  CHECK(script->content_type == "text/javascript; charset=utf-8");
  CHECK(script->cache_control == "public, max-age=31536000, immutable");
  auto style = files.lookup("/assets/index-77aa01.css");
  REQUIRE(style);
  CHECK(style->content_type == "text/css; charset=utf-8");
  auto icon = files.lookup("/favicon.svg");
  REQUIRE(icon);
  CHECK(icon->content_type == "image/svg+xml");
  CHECK(icon->cache_control == "no-cache");
  auto index = files.lookup("/");
  REQUIRE(index);
  CHECK(index->content_type == "text/html; charset=utf-8");
  CHECK(index->cache_control == "no-cache");
}

TEST_CASE("client-side routes get index.html but missing files and assets are not found") {
  Site site;
  StaticFiles files(site.root);
  for (const char* route : {"/calls", "/calls/0b1c-22", "/settings/numbers", "/settings/"}) {
    INFO(route);
    auto page = files.lookup(route);
    REQUIRE(page);
    CHECK(page->body->find("<title>tel</title>") != std::string::npos);
  }
  CHECK_FALSE(files.lookup("/missing.js"));
  CHECK_FALSE(files.lookup("/assets/gone"));
  CHECK_FALSE(files.lookup("/assets/index-000000.js"));
}

TEST_CASE("paths that would leave the dashboard folder are refused") {
  Site site;
  StaticFiles files(site.root);
  for (const char* path :
       {"/../secret.txt", "/assets/../../secret.txt", "/./index.html", "/assets/..", "/..",
        "/leak.txt", "/assets\\..\\..\\secret.txt", "//etc/passwd", "relative.txt", ""}) {
    INFO(path);
    auto file = files.lookup(path);
    if (file) CHECK(file->body->find("top secret") == std::string::npos);
    CHECK_FALSE(file);
  }
  std::string with_nul = "/index.html";
  with_nul += '\0';
  with_nul += ".js";
  CHECK_FALSE(files.lookup(with_nul));
}

TEST_CASE("a dashboard folder that does not exist stops the start") {
  CHECK_THROWS(StaticFiles("/nonexistent/tel/web/dist"));
}

TEST_CASE("content types by extension") {
  CHECK(tel::gateway::contentTypeFor("a.woff2") == "font/woff2");
  CHECK(tel::gateway::contentTypeFor("a.json") == "application/json");
  CHECK(tel::gateway::contentTypeFor("README") == "application/octet-stream");
  CHECK(tel::gateway::contentTypeFor("x.exe") == "application/octet-stream");
}

TEST_CASE("compressible files carry their gzip form and a rebuilt file is read again") {
  Site site;
  StaticFiles files(site.root);
  std::string script(4096, 'x');
  Site::write(site.root / "assets" / "big-1.js", script);
  auto first = files.lookup("/assets/big-1.js");
  REQUIRE(first);
  REQUIRE(first->gzipped);
  CHECK(first->gzipped->size() < 200);
  // The cache hands out the same bytes while the file is unchanged.
  CHECK(files.lookup("/assets/big-1.js")->body == first->body);
  Site::write(site.root / "assets" / "big-1.js", std::string(5000, 'y'));
  fs::last_write_time(
      site.root / "assets" / "big-1.js",
      fs::last_write_time(site.root / "assets" / "big-1.js") + std::chrono::seconds(2));
  auto second = files.lookup("/assets/big-1.js");
  REQUIRE(second);
  CHECK(second->body->size() == 5000);
  CHECK(second->body->front() == 'y');
  // Images are not compressed again.
  Site::write(site.root / "logo.png", std::string(4096, '\x89'));
  auto image = files.lookup("/logo.png");
  REQUIRE(image);
  CHECK_FALSE(image->gzipped);
}
