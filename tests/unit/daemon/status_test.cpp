#include "service/status.hpp"

#include <gtest/gtest.h>

using namespace segbridge::daemon;

TEST(Status, JsonHasTheContractFields) {
  DaemonStatus s;
  s.name = "frontend";
  s.role = "hub";
  s.bridge = "br0";
  PeerStatus p;
  p.name = "sitea";
  p.tap = "sb-sitea";
  p.state = "established";
  p.endpoint = "192.0.2.2:40000";
  p.last_handshake_age_s = 3.25;
  p.rx_bytes = 10;
  p.tx_frames = 2;
  p.fragments_tx = 4;
  p.drops["replay"] = 1;
  p.macs = {"52:54:00:12:34:56"};
  s.peers.push_back(p);
  PeerStatus q;
  q.name = "siteb";
  q.tap = "sb-siteb";
  q.state = "idle";
  s.peers.push_back(q);
  EXPECT_EQ(to_json(s),
            "{\"name\":\"frontend\",\"role\":\"hub\",\"bridge\":\"br0\",\"drops\":{},\"peers\":["
            "{\"name\":\"sitea\",\"tap\":\"sb-sitea\",\"state\":\"established\",\"endpoint\":\"192.0.2.2:40000\","
            "\"last_handshake_age_s\":3.2,\"rx_bytes\":10,\"tx_bytes\":0,\"rx_frames\":0,\"tx_frames\":2,"
            "\"fragments\":{\"tx\":4,\"rx\":0,\"reassembled\":0},\"replies_inline\":0,\"drops\":{\"replay\":1},"
            "\"macs\":[\"52:54:00:12:34:56\"]},"
            "{\"name\":\"siteb\",\"tap\":\"sb-siteb\",\"state\":\"idle\",\"endpoint\":null,"
            "\"last_handshake_age_s\":null,\"rx_bytes\":0,\"tx_bytes\":0,\"rx_frames\":0,\"tx_frames\":0,"
            "\"fragments\":{\"tx\":0,\"rx\":0,\"reassembled\":0},\"replies_inline\":0,\"drops\":{},\"macs\":[]}]}\n");
  auto table = to_table(s);
  EXPECT_NE(table.find("sitea"), std::string::npos);
  EXPECT_NE(table.find("behind sb-sitea: 52:54:00:12:34:56"), std::string::npos) << table;
}
