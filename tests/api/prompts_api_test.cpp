// Voice prompts through the REST API against the running platform: a text prompt rendered by the
// real espeak-ng, its metadata, its audio and the file media-relay plays; uploaded WAV files mixed
// down and resampled; refusals that name the field and change nothing; tenant isolation; deletion.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

using namespace tel::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

uint32_t readU16(const std::string& bytes, size_t at) {
  return static_cast<uint8_t>(bytes[at]) | (static_cast<uint8_t>(bytes[at + 1]) << 8);
}
uint32_t readU32(const std::string& bytes, size_t at) { return readU16(bytes, at) | (readU16(bytes, at + 2) << 16); }

void appendU16(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
}
void appendU32(std::string& out, uint32_t value) {
  appendU16(out, value & 0xFFFF);
  appendU16(out, value >> 16);
}

// A WAV file of `data` in the given format, with a canonical header.
std::string wavFile(uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits, const std::string& data) {
  std::string out = "RIFF";
  appendU32(out, static_cast<uint32_t>(36 + data.size()));
  out += "WAVEfmt ";
  appendU32(out, 16);
  appendU16(out, format);
  appendU16(out, channels);
  appendU32(out, rate);
  appendU32(out, rate * channels * bits / 8);
  appendU16(out, channels * bits / 8);
  appendU16(out, bits);
  out += "data";
  appendU32(out, static_cast<uint32_t>(data.size()));
  return out + data;
}

// A 1 kHz tone, the same on both channels of 16-bit stereo.
std::string stereoTone(uint32_t rate, double seconds) {
  std::string data;
  for (size_t i = 0; i < static_cast<size_t>(rate * seconds); ++i) {
    const auto sample = static_cast<int16_t>(10000 * std::sin(2 * std::numbers::pi * 1000 * static_cast<double>(i) / rate));
    appendU16(data, static_cast<uint16_t>(sample));
    appendU16(data, static_cast<uint16_t>(sample));
  }
  return wavFile(1, 2, rate, 16, data);
}

// Checks that `wav` is the storage format (RIFF, PCM, mono, 8000 Hz, 16 bits, true sizes) and
// returns its number of samples.
size_t checkStorageFormat(const std::string& wav) {
  REQUIRE(wav.size() >= 44);
  CHECK(wav.substr(0, 4) == "RIFF");
  CHECK(readU32(wav, 4) == wav.size() - 8);
  CHECK(wav.substr(8, 8) == "WAVEfmt ");
  CHECK(readU32(wav, 16) == 16);
  CHECK(readU16(wav, 20) == 1);     // PCM
  CHECK(readU16(wav, 22) == 1);     // mono
  CHECK(readU32(wav, 24) == 8000);  // Hz
  CHECK(readU16(wav, 34) == 16);    // bits
  CHECK(wav.substr(36, 4) == "data");
  CHECK(readU32(wav, 40) == wav.size() - 44);
  return (wav.size() - 44) / 2;
}

std::string promptFile(const TestTenant& tenant, const std::string& name) {
  return requireEnv("TEL_PROMPTS_DIR") + "/" + tenant.id + "/" + name + ".wav";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Deleting a test tenant removes its catalog rows, not its files (see docs/dialplan.md, Prompts):
// the test removes the directory it made.
struct PromptDirCleanup {
  explicit PromptDirCleanup(const TestTenant& tenant) : dir(requireEnv("TEL_PROMPTS_DIR") + "/" + tenant.id) {}
  ~PromptDirCleanup() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string dir;
};

HttpResult putWav(ApiClient& api, const std::string& name, const std::string& wav) {
  return api.raw("PUT", "/v1/prompts/" + name, wav, "audio/wav");
}

}  // namespace

TEST_CASE("a text prompt is rendered by espeak-ng once, stored at 8 kHz mono and served back") {
  TestTenant tenant(Platform::fromEnv(), "prompt");
  PromptDirCleanup cleanup(tenant);
  auto& api = *tenant.api;
  auto saved = api.put("/v1/prompts/welcome", {{"text", "Welcome to the demo company. Please hold."}, {"voice", "en"}});
  INFO(saved.body);
  REQUIRE(saved.status == 200);
  CHECK(saved.json["name"] == "welcome");
  CHECK(saved.json["source"] == "text");
  CHECK(saved.json["text"] == "Welcome to the demo company. Please hold.");
  CHECK(saved.json["voice"] == "en");
  CHECK(saved.json["duration_ms"].get<int64_t>() > 1000);
  CHECK(saved.json["duration_ms"].get<int64_t>() < 10000);
  CHECK(saved.json["sha256"].get<std::string>().size() == 64);
  CHECK(saved.json["audio_url"] == "/v1/prompts/welcome/audio");
  CHECK(api.get("/v1/prompts/welcome").json == saved.json);

  auto audio = api.get("/v1/prompts/welcome/audio");
  REQUIRE(audio.status == 200);
  CHECK(audio.header("Content-Type") == "audio/wav");
  CHECK(audio.header("ETag") == "\"" + saved.json["sha256"].get<std::string>() + "\"");
  const size_t samples = checkStorageFormat(audio.body);
  CHECK(static_cast<int64_t>(audio.body.size()) == saved.json["bytes"].get<int64_t>());
  CHECK(static_cast<int64_t>(samples / 8) == saved.json["duration_ms"].get<int64_t>());
  // It is speech, not silence.
  size_t loud = 0;
  for (size_t i = 0; i < samples; ++i) loud += std::abs(static_cast<int16_t>(readU16(audio.body, 44 + 2 * i))) > 1000;
  CHECK(loud > samples / 20);

  // The file media-relay plays is the one served, and nothing else is left beside it.
  const std::string path = promptFile(tenant, "welcome");
  REQUIRE(fs::exists(path));
  CHECK(readFile(path) == audio.body);
  CHECK(std::distance(fs::directory_iterator(fs::path(path).parent_path()), fs::directory_iterator()) == 1);

  auto list = api.get("/v1/prompts");
  REQUIRE(list.status == 200);
  REQUIRE(list.json["items"].size() == 1);
  CHECK(list.json["items"][0] == saved.json);

  // Saved again with other words in another voice: the same prompt, new audio.
  auto replaced = api.put("/v1/prompts/welcome", {{"text", "Willkommen. Bitte warten Sie."}, {"voice", "de"}});
  REQUIRE(replaced.status == 200);
  CHECK(replaced.json["voice"] == "de");
  CHECK(replaced.json["created_at"] == saved.json["created_at"]);
  CHECK(replaced.json["sha256"] != saved.json["sha256"]);
  CHECK(readFile(path) == api.get("/v1/prompts/welcome/audio").body);
  CHECK(api.get("/v1/prompts").json["items"].size() == 1);
}

TEST_CASE("an uploaded WAV file is mixed down to mono and resampled to 8 kHz") {
  TestTenant tenant(Platform::fromEnv(), "prompt");
  PromptDirCleanup cleanup(tenant);
  auto& api = *tenant.api;
  auto saved = putWav(api, "tone", stereoTone(44100, 1.0));
  INFO(saved.body);
  REQUIRE(saved.status == 200);
  CHECK(saved.json["source"] == "audio");
  CHECK(saved.json["text"].is_null());
  CHECK(saved.json["voice"].is_null());
  CHECK(saved.json["duration_ms"] == 1000);
  auto audio = api.get("/v1/prompts/tone/audio");
  REQUIRE(audio.status == 200);
  CHECK(checkStorageFormat(audio.body) == 8000);
  // The tone is still 1 kHz: 2000 zero crossings a second (counted in the middle 0.8 s).
  size_t crossings = 0;
  for (size_t i = 801; i < 7200; ++i) {
    const auto before = static_cast<int16_t>(readU16(audio.body, 44 + 2 * (i - 1)));
    const auto now = static_cast<int16_t>(readU16(audio.body, 44 + 2 * i));
    crossings += (before < 0) != (now < 0);
  }
  CHECK(crossings == Approx(1600).margin(4));

  // G.711 mu-law at 8 kHz (the usual telephony export), also as audio/x-wav.
  auto ulaw = api.raw("PUT", "/v1/prompts/ulaw", wavFile(7, 1, 8000, 8, std::string(4000, '\x80')), "audio/x-wav");
  REQUIRE(ulaw.status == 200);
  CHECK(ulaw.json["duration_ms"] == 500);
}

TEST_CASE("bad prompts are refused naming the field, and change nothing") {
  TestTenant tenant(Platform::fromEnv(), "prompt");
  PromptDirCleanup cleanup(tenant);
  auto& api = *tenant.api;
  auto refused = [&](const HttpResult& result, const std::string& field) {
    INFO(result.body);
    CHECK(result.status == 400);
    CHECK(result.errorCode() == "invalid_argument");
    CHECK(result.errorField() == field);
  };
  const json hello = {{"text", "hello"}};
  refused(api.put("/v1/prompts/Welcome", hello), "name");
  refused(api.put("/v1/prompts/_welcome", hello), "name");
  refused(api.put("/v1/prompts/with%20space", hello), "name");
  refused(api.put("/v1/prompts/" + std::string(65, 'a'), hello), "name");
  refused(api.get("/v1/prompts/bad.name"), "name");
  // Bad JSON: unparseable, of the wrong shape, unknown or missing fields.
  auto garbage = api.raw("PUT", "/v1/prompts/welcome", "{\"text\": ", "application/json");
  CHECK(garbage.status == 400);
  CHECK(garbage.errorCode() == "invalid_argument");
  refused(api.put("/v1/prompts/welcome", {{"text", 5}}), "text");
  refused(api.put("/v1/prompts/welcome", {{"text", "hi"}, {"speed", 3}}), "speed");
  refused(api.put("/v1/prompts/welcome", json::object()), "text");
  refused(api.put("/v1/prompts/welcome", {{"text", ""}}), "text");
  refused(api.put("/v1/prompts/welcome", {{"text", std::string(2001, 'a')}}), "text");
  refused(api.raw("PUT", "/v1/prompts/welcome", "{\"text\": \"caf\xc3\"}", "application/json"), "");  // not JSON
  refused(api.put("/v1/prompts/welcome", {{"text", "hi"}, {"voice", "klingon"}}), "voice");
  auto no_voice = api.put("/v1/prompts/welcome", {{"text", "hi"}, {"voice", "zz"}});  // well-formed, no such voice
  refused(no_voice, "voice");
  CHECK(no_voice.json["error"]["message"] == "voice: espeak-ng has no voice \"zz\"");
  // Bad WAV files: garbage, a header cut short, a chunk that claims 4 GiB, a format not taken.
  refused(putWav(api, "welcome", "this is not a wav file"), "wav");
  const std::string valid = stereoTone(16000, 0.1);
  refused(putWav(api, "welcome", valid.substr(0, 30)), "wav");
  std::string huge_chunk = valid;
  huge_chunk[40] = huge_chunk[41] = huge_chunk[42] = huge_chunk[43] = '\xff';
  auto huge = putWav(api, "welcome", huge_chunk);
  refused(huge, "wav");
  CHECK(huge.json["error"]["message"] == "wav: chunk \"data\" at byte 36 claims 4294967295 bytes, only 6400 follow");
  auto float_wav = putWav(api, "welcome", wavFile(3, 1, 8000, 32, std::string(64, '\0')));
  refused(float_wav, "wav");
  CHECK(float_wav.json["error"]["message"] ==
        "wav: not supported: audio format code 3; PCM (1), A-law (6) or mu-law (7) expected");
  // Neither JSON nor WAV; larger than an upload may be.
  CHECK(api.raw("PUT", "/v1/prompts/welcome", "hello", "text/plain").status == 415);
  CHECK(putWav(api, "welcome", std::string((20 << 20) + 1, 'R')).status == 413);

  CHECK(api.get("/v1/prompts").json["items"].empty());
  CHECK(api.get("/v1/prompts/welcome").status == 404);
  CHECK_FALSE(fs::exists(promptFile(tenant, "welcome")));
}

TEST_CASE("a tenant's prompts are its own") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "prompt-a");
  TestTenant b(platform, "prompt-b");
  PromptDirCleanup cleanup_a(a), cleanup_b(b);
  auto saved = a.api->put("/v1/prompts/hello", {{"text", "Hello from A"}});
  REQUIRE(saved.status == 200);
  CHECK(b.api->get("/v1/prompts/hello").status == 404);
  CHECK(b.api->get("/v1/prompts/hello/audio").status == 404);
  CHECK(b.api->del("/v1/prompts/hello").status == 404);
  CHECK(b.api->get("/v1/prompts").json["items"].empty());
  // B's prompt of the same name is B's; A's is untouched.
  REQUIRE(b.api->put("/v1/prompts/hello", {{"text", "Hello from B, a longer greeting"}}).status == 200);
  CHECK(a.api->get("/v1/prompts/hello").json == saved.json);
  CHECK(readFile(promptFile(a, "hello")) == a.api->get("/v1/prompts/hello/audio").body);
  CHECK(readFile(promptFile(a, "hello")) != readFile(promptFile(b, "hello")));
  // The operator's key has no tenant: the routes are for tenant keys.
  CHECK(platform.admin().get("/v1/prompts").status == 403);
}

TEST_CASE("deleting a prompt removes it and its file") {
  TestTenant tenant(Platform::fromEnv(), "prompt");
  PromptDirCleanup cleanup(tenant);
  auto& api = *tenant.api;
  REQUIRE(api.put("/v1/prompts/bye", {{"text", "Goodbye"}}).status == 200);
  const std::string path = promptFile(tenant, "bye");
  REQUIRE(fs::exists(path));
  CHECK(api.del("/v1/prompts/bye").status == 204);
  CHECK_FALSE(fs::exists(path));
  CHECK(api.get("/v1/prompts/bye").status == 404);
  CHECK(api.get("/v1/prompts/bye/audio").status == 404);
  CHECK(api.del("/v1/prompts/bye").status == 404);
  CHECK(api.get("/v1/prompts").json["items"].empty());
}
