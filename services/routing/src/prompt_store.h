#pragma once

#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "prompt_files.h"
#include "prompt_render.h"
#include "speech.h"
#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"
#include "tel/routing/v1/prompts.pb.h"

namespace tel::routing {

// What the dial plan asks about prompts when a plan is saved: does the tenant have a prompt of
// this name. Blocking; thread-safe.
class PromptCatalog {
 public:
  virtual ~PromptCatalog() = default;
  // false for names that are not valid prompt names; UNAVAILABLE when the catalog cannot be read.
  virtual absl::StatusOr<bool> exists(const std::string& tenant_id, const std::string& name) = 0;
};

// The tenants' prompts: the catalog in Postgres (table prompts, migration 0018; every read and
// write in the tenant's transaction) and the audio files in the prompts directory (PromptFiles).
//
// A save renders first, outside any transaction (espeak-ng may take seconds; no connection is held
// meanwhile), then in one transaction upserts the row, whose lock orders concurrent saves of the
// same name, writes the file atomically and commits. A file write that fails rolls the row back.
// Were the commit itself to fail after the rename, the file would hold the new audio under the old
// row (its sha256 tells): saving again repairs it. A delete removes the row and the file in the
// same way. Thread-safe.
class PromptStore final : public PromptCatalog {
 public:
  PromptStore(std::shared_ptr<pg::ConnectionPool> pool, PromptFiles files, SpeechRenderer& speech,
              log::Logger log);

  absl::StatusOr<bool> exists(const std::string& tenant_id, const std::string& name) override;

  // The gRPC methods' work (tel.routing.v1.Prompts).
  grpc::Status put(const v1::PutPromptRequest& request, v1::Prompt* out);
  grpc::Status get(const v1::GetPromptRequest& request, v1::Prompt* out);
  grpc::Status list(const v1::ListPromptsRequest& request, v1::ListPromptsResponse* out);
  grpc::Status remove(const v1::GetPromptRequest& request);
  grpc::Status audio(const v1::GetPromptRequest& request, v1::PromptAudio* out);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  PromptFiles files_;
  SpeechRenderer& speech_;
  log::Logger log_;
};

}  // namespace tel::routing
