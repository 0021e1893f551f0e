// telctl: operator tasks of the local stack and of deployments (run by ./tel and by Helm hooks).
//   telctl migrate <database-url> <migrations-dir>
//   telctl create-topics <brokers> <topics-file>     lines: "<name> <partitions>"
#include <fstream>
#include <iostream>
#include <sstream>

#include "tel/kafka/kafka.h"
#include "tel/pg/migrator.h"

namespace {

int usage() {
  std::cerr << "usage: telctl migrate <database-url> <migrations-dir>\n"
               "       telctl create-topics <brokers> <topics-file>\n";
  return 2;
}

int migrate(const std::string& url, const std::string& directory) {
  auto report = tel::pg::applyMigrations(url, directory);
  if (!report.ok()) {
    std::cerr << "telctl migrate: " << report.status().message() << "\n";
    return 1;
  }
  for (const auto& name : report->applied) std::cout << "applied " << name << "\n";
  std::cout << report->applied.size() << " applied, " << report->already_applied
            << " already applied\n";
  return 0;
}

int createTopics(const std::string& brokers, const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "telctl create-topics: cannot read " << file << "\n";
    return 1;
  }
  std::vector<tel::kafka::TopicSpec> topics;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    tel::kafka::TopicSpec topic;
    if (!(fields >> topic.name >> topic.partitions) || topic.partitions < 1) {
      std::cerr << "telctl create-topics: bad line '" << line << "'\n";
      return 1;
    }
    topics.push_back(topic);
  }
  auto status = tel::kafka::ensureTopics(brokers, topics, std::chrono::seconds(15));
  if (!status.ok()) {
    std::cerr << "telctl create-topics: " << status.message() << "\n";
    return 1;
  }
  std::cout << topics.size() << " topics present\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  const std::string command = argv[1];
  if (command == "migrate") return migrate(argv[2], argv[3]);
  if (command == "create-topics") return createTopics(argv[2], argv[3]);
  return usage();
}
