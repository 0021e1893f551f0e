#include "client_address.h"

#include "tel/config/config.h"

namespace tel::gateway {

std::string ClientAddress::of(const httplib::Request& request) const {
  std::string source = request.remote_addr;
  if (trusted_.empty() || !trusted(source)) return source;
  // Every X-Forwarded-For header, in order, as one list; walked from the right (the hop nearest
  // to us) past the trusted proxies.
  std::vector<std::string> hops;
  const size_t headers = request.get_header_value_count("X-Forwarded-For");
  for (size_t i = 0; i < headers; ++i) {
    for (auto& hop : config::splitCommaList(request.get_header_value("X-Forwarded-For", i))) {
      hops.push_back(std::move(hop));
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    // Garbage where an address should be: stop believing the header there.
    if (!net::AddressBlocks::isAddress(*hop)) return source;
    source = *hop;
    if (!trusted(source)) return source;
  }
  return source;
}

}  // namespace tel::gateway
