// What a prompt save accepts (names, text, voices, WAV uploads), the field each refusal names, and
// that every accepted prompt comes out in the storage format. Speech comes from a fake renderer,
// and from a stand-in espeak-ng script for the renderer's own error mapping.
#include "prompt_render.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <sys/stat.h>
#include <unistd.h>

#include "tel/grpc/status.h"

using namespace tel::routing;
namespace v1 = tel::routing::v1;

namespace {

// What espeak-ng --stdout writes: a streaming header with placeholder sizes, 22050 Hz samples.
std::string streamedWav(size_t samples) {
  MonoAudio audio{22050, std::vector<int16_t>(samples)};
  for (size_t i = 0; i < samples; ++i) {
    audio.samples[i] = static_cast<int16_t>(4000 * std::sin(2 * std::numbers::pi * 200 * static_cast<double>(i) / 22050));
  }
  std::string wav = encodeWav(audio);
  const char placeholder_riff[4] = {'\x24', '\xf0', '\xff', '\x7f'};
  const char placeholder_data[4] = {'\x00', '\xf0', '\xff', '\x7f'};
  wav.replace(4, 4, placeholder_riff, 4);
  wav.replace(40, 4, placeholder_data, 4);
  return wav;
}

class FakeSpeech : public SpeechRenderer {
 public:
  absl::StatusOr<std::string> renderWav(const std::string& text, const std::string& voice) override {
    ++calls;
    last_text = text;
    last_voice = voice;
    if (!answer.ok()) return answer;
    return *answer;
  }
  absl::StatusOr<std::string> answer = streamedWav(22050);  // one second
  int calls = 0;
  std::string last_text;
  std::string last_voice;
};

v1::PutPromptRequest textRequest(const std::string& text, const std::string& voice = "") {
  v1::PutPromptRequest request;
  request.set_tenant_id("00000000-0000-0000-0000-000000000001");
  request.set_name("welcome");
  request.mutable_text()->set_text(text);
  request.mutable_text()->set_voice(voice);
  return request;
}

v1::PutPromptRequest wavRequest(std::string wav) {
  v1::PutPromptRequest request;
  request.set_name("welcome");
  request.set_wav(std::move(wav));
  return request;
}

// The field and message of a refusal.
std::pair<std::string, std::string> refusal(const v1::PutPromptRequest& request, SpeechRenderer& speech) {
  RenderedPrompt out;
  const grpc::Status status = renderPrompt(request, speech, &out);
  REQUIRE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  return {tel::grpc_util::fieldOf(status), status.error_message()};
}

void checkStorageFormat(const std::string& wav) {
  REQUIRE(wav.size() > 44);
  CHECK(wav.substr(0, 4) == "RIFF");
  auto decoded = decodeWav(wav);  // strictly: the sizes are true
  REQUIRE(decoded.ok());
  CHECK(decoded->sample_rate == 8000);
  CHECK(wav[22] == 1);   // mono
  CHECK(wav[34] == 16);  // bits per sample
  CHECK(wav.size() == 44 + decoded->samples.size() * 2);
}

}  // namespace

TEST_CASE("prompt names are 1-64 of [a-z0-9_-], starting with a letter or a digit") {
  for (const char* good : {"a", "welcome", "menu_1", "after-hours", "9am", "x-_-y"}) {
    INFO(good);
    CHECK(validPromptName(good));
  }
  CHECK(validPromptName(std::string(64, 'a')));
  CHECK_FALSE(validPromptName(std::string(65, 'a')));
  for (const char* bad : {"", "_hidden", "-dash", "Welcome", "hello world", "../etc", "a/b", "a.wav", "caf\xc3\xa9",
                          ".", "a\n"}) {
    INFO(bad);
    CHECK_FALSE(validPromptName(bad));
  }
}

TEST_CASE("voices are espeak-ng names like en, en-us, pt-br") {
  for (const char* good : {"en", "de", "yue", "en-us", "pt-br", "es-419"}) {
    INFO(good);
    CHECK(validVoice(good));
  }
  for (const char* bad : {"", "e", "english", "EN", "en-", "en-u", "en-toolonggg", "en us", "-v", "en+f3", "../en",
                          "en-gb-x"}) {
    INFO(bad);
    CHECK_FALSE(validVoice(bad));
  }
}

TEST_CASE("UTF-8 is checked: overlong forms, surrogates and truncated sequences are not text") {
  CHECK(validUtf8("plain"));
  CHECK(validUtf8("Gr\xc3\xbc\xc3\x9f Gott \xe2\x82\xac \xf0\x9f\x93\x9e"));
  CHECK_FALSE(validUtf8("\xc0\x80"));          // overlong NUL
  CHECK_FALSE(validUtf8("\xe0\x80\xaf"));      // overlong '/'
  CHECK_FALSE(validUtf8("\xed\xa0\x80"));      // a surrogate
  CHECK_FALSE(validUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(validUtf8("abc\xe2\x82"));       // cut short
  CHECK_FALSE(validUtf8("\x80"));
  CHECK_FALSE(validUtf8("\xff"));
}

TEST_CASE("a text prompt is rendered once and stored at 8 kHz mono") {
  FakeSpeech speech;
  RenderedPrompt out;
  REQUIRE(renderPrompt(textRequest("Welcome to Example Company"), speech, &out).ok());
  CHECK(speech.calls == 1);
  CHECK(speech.last_text == "Welcome to Example Company");
  CHECK(speech.last_voice == "en");  // the default
  CHECK(out.source == "text");
  CHECK(out.text == "Welcome to Example Company");
  CHECK(out.voice == "en");
  CHECK(out.duration_ms == 1000);
  checkStorageFormat(out.wav);

  REQUIRE(renderPrompt(textRequest("Willkommen", "de"), speech, &out).ok());
  CHECK(speech.last_voice == "de");
  CHECK(out.voice == "de");
}

TEST_CASE("bad text prompts are refused naming the field, before any rendering") {
  FakeSpeech speech;
  CHECK(refusal(textRequest(""), speech) == std::make_pair(std::string("text"), std::string("text: must not be empty")));
  CHECK(refusal(textRequest(std::string(2001, 'a')), speech).second == "text: longer than 2000 bytes");
  CHECK(refusal(textRequest(" \n\t "), speech).second == "text: must not be blank");
  CHECK(refusal(textRequest("caf\xc3"), speech).second == "text: not valid UTF-8");
  CHECK(refusal(textRequest(std::string("a\0b", 3)), speech).second == "text: contains a NUL character");
  CHECK(refusal(textRequest("hello", "english"), speech).first == "voice");
  CHECK(refusal(textRequest("hello", "-w /etc/passwd"), speech).first == "voice");
  CHECK(speech.calls == 0);
  // Exactly 2000 bytes is fine.
  RenderedPrompt out;
  CHECK(renderPrompt(textRequest(std::string(2000, 'a')), speech, &out).ok());
}

TEST_CASE("what the renderer reports maps to the field or to a retryable error") {
  FakeSpeech speech;
  speech.answer = absl::InvalidArgumentError("espeak-ng has no voice \"xx\"");
  CHECK(refusal(textRequest("hello", "xx"), speech) ==
        std::make_pair(std::string("voice"), std::string("voice: espeak-ng has no voice \"xx\"")));
  speech.answer = absl::ResourceExhaustedError("espeak-ng wrote more than 28 MiB");
  CHECK(refusal(textRequest("hello"), speech).first == "text");
  RenderedPrompt out;
  speech.answer = absl::DeadlineExceededError("espeak-ng did not finish");
  CHECK(renderPrompt(textRequest("hello"), speech, &out).error_code() == grpc::StatusCode::UNAVAILABLE);
  speech.answer = std::string("not a wav at all");
  CHECK(renderPrompt(textRequest("hello"), speech, &out).error_code() == grpc::StatusCode::INTERNAL);
}

TEST_CASE("an uploaded WAV file is converted to the storage format") {
  FakeSpeech speech;
  MonoAudio upload{16000, std::vector<int16_t>(24000, 100)};  // 1.5 s
  RenderedPrompt out;
  REQUIRE(renderPrompt(wavRequest(encodeWav(upload)), speech, &out).ok());
  CHECK(out.source == "audio");
  CHECK_FALSE(out.text.has_value());
  CHECK_FALSE(out.voice.has_value());
  CHECK(out.duration_ms == 1500);
  checkStorageFormat(out.wav);
  CHECK(speech.calls == 0);
}

TEST_CASE("bad uploads are refused naming wav") {
  FakeSpeech speech;
  CHECK(refusal(wavRequest("garbage"), speech) ==
        std::make_pair(std::string("wav"), std::string("wav: not a WAV file: 7 bytes, shorter than a RIFF header")));
  // A file whose header is fine but claims more data than it holds (an upload cut short).
  std::string cut = encodeWav({8000, std::vector<int16_t>(800)});
  cut.resize(cut.size() - 100);
  CHECK(refusal(wavRequest(cut), speech).second.find("wav: truncated") == 0);
  CHECK(refusal(wavRequest(std::string((20 << 20) + 1, 'R')), speech).second == "wav: larger than 20 MiB");
  CHECK(refusal(wavRequest(encodeWav({8000, std::vector<int16_t>(601 * 8000)})), speech).second ==
        "wav: longer than 10 minutes (601 s)");
  v1::PutPromptRequest neither;
  neither.set_name("welcome");
  CHECK(refusal(neither, speech).first == "source");
}

TEST_CASE("espeak-ng's refusal of an unknown voice becomes INVALID_ARGUMENT, and its output is used as it is") {
  char dir[] = "/tmp/tel-espeak-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string script = std::string(dir) + "/espeak-ng";
  {
    // A stand-in with espeak-ng's behaviour: voice "zz" does not exist; otherwise the text comes
    // back on stdout, so the test can see it arrived whole on stdin.
    std::ofstream out(script);
    out << "#!/bin/sh\n"
           "[ \"$5\" = zz ] && { echo 'Error: The specified espeak-ng voice does not exist.' >&2; exit 1; }\n"
           "[ \"$5\" = qq ] && { echo 'Segmentation fault' >&2; exit 139; }\n"
           "[ \"$1 $2 $3 $4 $6\" = '--stdout -b 1 -v --stdin' ] || exit 9\n"
           "cat\n";
  }
  REQUIRE(chmod(script.c_str(), 0755) == 0);
  EspeakRenderer renderer(script, {.timeout = std::chrono::seconds(5), .max_stdout = 1 << 20});
  auto missing = renderer.renderWav("hello", "zz");
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() == "espeak-ng has no voice \"zz\"");
  auto crashed = renderer.renderWav("hello", "qq");
  CHECK(crashed.status().code() == absl::StatusCode::kInternal);
  CHECK(crashed.status().message() == "espeak-ng exited with 139: Segmentation fault");
  auto echoed = renderer.renderWav("-v de; rm -rf / $(id)", "en");
  REQUIRE(echoed.ok());
  CHECK(*echoed == "-v de; rm -rf / $(id)");
  EspeakRenderer absent("/nonexistent/espeak-ng", {});
  CHECK(absent.renderWav("hello", "en").status().code() == absl::StatusCode::kNotFound);
  unlink(script.c_str());
  rmdir(dir);
}
