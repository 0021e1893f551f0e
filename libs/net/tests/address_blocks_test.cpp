#include "tel/net/address_blocks.h"

#include <catch2/catch.hpp>

using tel::net::AddressBlocks;

TEST_CASE("addresses and CIDR blocks of both families match what they cover") {
  const AddressBlocks blocks({"10.0.0.0/8", "192.0.2.10", "fd00::/8", "172.16.0.0/12"});
  CHECK(blocks.contains("10.1.2.3"));
  CHECK(blocks.contains("192.0.2.10"));
  CHECK_FALSE(blocks.contains("192.0.2.11"));
  CHECK(blocks.contains("fd00::5"));
  CHECK_FALSE(blocks.contains("fe80::1"));
  CHECK(blocks.contains("172.31.255.255"));  // a prefix that is not a whole number of bytes
  CHECK_FALSE(blocks.contains("172.32.0.0"));
  CHECK_FALSE(blocks.contains("not-an-ip"));
  CHECK_FALSE(AddressBlocks().contains("10.0.0.1"));
  CHECK(AddressBlocks().empty());
}

TEST_CASE("an IPv4-mapped IPv6 address counts as the IPv4 address it carries") {
  const AddressBlocks blocks({"10.0.0.0/8", "::ffff:192.0.2.1"});
  CHECK(blocks.contains("::ffff:10.1.2.3"));
  CHECK(blocks.contains("192.0.2.1"));
  CHECK_FALSE(blocks.contains("::ffff:11.0.0.1"));
}

TEST_CASE("entries that are not addresses or CIDR blocks are named") {
  CHECK_FALSE(AddressBlocks::invalidEntry({"10.0.0.0/8", "::1", "192.0.2.1/32", "fd00::/128"}));
  CHECK(AddressBlocks::invalidEntry({"10.0.0.0/33"}) == "10.0.0.0/33");
  CHECK(AddressBlocks::invalidEntry({"10.0.0.0/"}) == "10.0.0.0/");
  CHECK(AddressBlocks::invalidEntry({"proxy.example.com"}) == "proxy.example.com");
  CHECK(AddressBlocks::invalidEntry({"10.0.0.1", "10.0.0.0/-1"}) == "10.0.0.0/-1");
  CHECK(AddressBlocks::isAddress("2001:db8::1"));
  CHECK_FALSE(AddressBlocks::isAddress("10.0.0.0/8"));
}
