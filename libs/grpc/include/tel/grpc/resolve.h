#pragma once

#include <string>
#include <vector>

namespace tel::grpc_util {

// Every address `host_port` resolves to, as "ip:port" ("[v6]:port"), sorted; empty when it does
// not resolve. A headless Kubernetes Service resolves to each of its pods, so this is how a client
// finds every instance of a service behind one name.
std::vector<std::string> resolveAll(const std::string& host_port);

}  // namespace tel::grpc_util
