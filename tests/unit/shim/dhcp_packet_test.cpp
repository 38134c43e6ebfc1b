// The DHCP decoder against real captures (dhclient, busybox udhcpc, iPXE in
// qemu; see data/capture-fixtures.sh) and against every malformed shape.
#include "dhcp_packet.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "frame_builder.hpp"

using namespace segbridge;
using namespace segbridge::shim;
using shimtest::build_frame;
using shimtest::Bytes;
using shimtest::FrameSpec;
using shimtest::option;
using shimtest::pxe_options;

namespace {

std::vector<Bytes> read_pcap(const std::string& name) {
  char err[PCAP_ERRBUF_SIZE];
  std::string path = std::string(SHIM_TEST_DATA_DIR) + "/" + name;
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  std::vector<Bytes> frames;
  if (!p) return frames;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) frames.emplace_back(data, data + h->caplen);
  pcap_close(p);
  return frames;
}

struct Outcome {
  bool ok;
  DropReason reason;
  DhcpRequest req;
};

Outcome parse(const Bytes& f) {
  Outcome o{};
  o.ok = parse_dhcp_frame(f.data(), f.size(), o.req, o.reason);
  return o;
}

void expect_drop(const Bytes& f, DropReason want) {
  Outcome o = parse(f);
  EXPECT_FALSE(o.ok);
  if (!o.ok) {
    EXPECT_EQ(drop_reason_name(o.reason), drop_reason_name(want));
  }
}

FrameSpec pxe_spec() {
  FrameSpec s;
  s.options = pxe_options();
  s.pad_to = 300;
  return s;
}

}  // namespace

TEST(DhcpPacketReal, DhclientDiscover) {
  auto frames = read_pcap("dhclient.pcap");
  ASSERT_GE(frames.size(), 1u);
  for (const auto& f : frames) {
    Outcome o = parse(f);
    ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
    EXPECT_EQ(o.req.client_mac.to_string(), "52:54:00:5e:00:01");
    EXPECT_EQ(o.req.kind, MessageKind::discover);
    EXPECT_EQ(o.req.hostname, "shimtest");
    EXPECT_EQ(o.req.vendor_class, "PXEClient:Arch:00000:UNDI:002001");
    EXPECT_TRUE(o.req.is_pxe());
    EXPECT_FALSE(o.req.has_arch);
    EXPECT_FALSE(o.req.has_uuid);
    EXPECT_EQ(o.req.vlan_count, 0);
  }
}

TEST(DhcpPacketReal, UdhcpcDiscover) {
  auto frames = read_pcap("udhcpc.pcap");
  ASSERT_GE(frames.size(), 1u);
  Outcome o = parse(frames[0]);
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.kind, MessageKind::discover);
  EXPECT_EQ(o.req.hostname, "udhcptest");
  EXPECT_EQ(o.req.vendor_class.rfind("udhcp ", 0), 0u) << o.req.vendor_class;
  EXPECT_FALSE(o.req.is_pxe());  // not a PXE ROM: the PXE-only guard skips it
  ASSERT_EQ(o.req.client_id.size(), 7u);
  EXPECT_EQ(static_cast<unsigned char>(o.req.client_id[0]), 1u);  // htype Ethernet + MAC
}

TEST(DhcpPacketReal, IpxeDiscoverFromQemu) {
  auto frames = read_pcap("ipxe.pcap");
  ASSERT_GE(frames.size(), 1u);
  Outcome o = parse(frames[0]);
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.client_mac.to_string(), "52:54:00:5e:00:02");
  EXPECT_EQ(o.req.kind, MessageKind::discover);
  EXPECT_TRUE(o.req.is_pxe());
  ASSERT_TRUE(o.req.has_arch);
  EXPECT_EQ(o.req.arch, 0);
  EXPECT_EQ(o.req.arch_name(), "x86-bios");
  ASSERT_TRUE(o.req.has_uuid);
  EXPECT_EQ(o.req.uuid_string(), "8c1b6f1e-0a1b-4c5d-9e8f-001122334455");  // qemu -uuid
  EXPECT_EQ(o.req.user_class, "iPXE");
}

TEST(DhcpPacket, SyntheticPxeDiscover) {
  Outcome o = parse(build_frame(pxe_spec()));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.client_mac.to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(o.req.xid, 0x12345678u);
  EXPECT_EQ(o.req.arch_name(), "x64-efi");
  EXPECT_EQ(o.req.uuid_string(), "03020100-0504-0706-0809-0a0b0c0d0e0f");
}

TEST(DhcpPacket, Arch9IsAlsoX64Efi) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  Bytes a = option(93, Bytes{0, 9, 0, 7});  // a list: the first entry counts
  s.options.insert(s.options.end(), a.begin(), a.end());
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.arch, 9);
  EXPECT_EQ(o.req.arch_name(), "x64-efi");
}

TEST(DhcpPacket, VlanTaggedAndQinQ) {
  FrameSpec s = pxe_spec();
  s.vlans = {42};
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.vlan_count, 1);
  EXPECT_EQ(o.req.vlan_ids[0], 42);
  s.vlans = {100, 200};
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.vlan_count, 2);
  EXPECT_EQ(o.req.vlan_ids[0], 100);
  EXPECT_EQ(o.req.vlan_ids[1], 200);
  s.vlans = {1, 2, 3};
  expect_drop(build_frame(s), DropReason::too_many_vlan_tags);
}

TEST(DhcpPacket, Ipv4OptionsAccepted) {
  FrameSpec s = pxe_spec();
  s.ip_options = {0x94, 0x04, 0x00, 0x00};  // Router Alert
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_TRUE(o.req.is_pxe());
}

TEST(DhcpPacket, FragmentsRejected) {
  FrameSpec s = pxe_spec();
  s.frag = 0x2000;  // more fragments
  expect_drop(build_frame(s), DropReason::ip_fragment);
  s.frag = 0x0010;  // non-zero offset
  expect_drop(build_frame(s), DropReason::ip_fragment);
  s.frag = 0x4000;  // DF alone is fine
  EXPECT_TRUE(parse(build_frame(s)).ok);
}

TEST(DhcpPacket, IpHeaderProblems) {
  FrameSpec s = pxe_spec();
  s.bad_checksum = true;
  expect_drop(build_frame(s), DropReason::bad_ip_checksum);

  Bytes f = build_frame(pxe_spec());
  Bytes v6 = f;
  v6[14] = 0x65;
  expect_drop(v6, DropReason::bad_ip_version);
  Bytes ihl = f;
  ihl[14] = 0x44;  // IHL 16 bytes
  expect_drop(ihl, DropReason::bad_ip_header_length);
  Bytes total = f;
  total[16] = 0, total[17] = 10;  // total length < header
  expect_drop(total, DropReason::bad_ip_total_length);
  Bytes longer = f;
  longer[16] = 0x05, longer[17] = 0xdc;  // claims 1500 bytes
  expect_drop(longer, DropReason::truncated_ipv4);
}

TEST(DhcpPacket, NotOursIsCountedSeparately) {
  FrameSpec s = pxe_spec();
  s.protocol = 6;
  expect_drop(build_frame(s), DropReason::not_udp);
  s = pxe_spec();
  s.dst_port = 68;  // server → client (OFFER/ACK)
  expect_drop(build_frame(s), DropReason::not_to_server);
  s = pxe_spec();
  s.op = 2;
  expect_drop(build_frame(s), DropReason::not_bootrequest);
  Bytes arp = build_frame(pxe_spec());
  arp[12] = 0x08, arp[13] = 0x06;
  expect_drop(arp, DropReason::not_ipv4);
  EXPECT_FALSE(is_invalid(DropReason::not_to_server));
  EXPECT_TRUE(is_invalid(DropReason::ip_fragment));
}

TEST(DhcpPacket, UdpLength) {
  Bytes f = build_frame(pxe_spec());
  Bytes small = f;
  small[14 + 20 + 4] = 0, small[14 + 20 + 5] = 4;
  expect_drop(small, DropReason::bad_udp_length);
  Bytes big = f;
  big[14 + 20 + 4] = 0x10, big[14 + 20 + 5] = 0;
  expect_drop(big, DropReason::bad_udp_length);
}

TEST(DhcpPacket, HardwareFieldsChecked) {
  FrameSpec s = pxe_spec();
  s.hlen = 7;
  expect_drop(build_frame(s), DropReason::bad_hardware_length);
  s = pxe_spec();
  s.hlen = 16;
  expect_drop(build_frame(s), DropReason::bad_hardware_length);
  s = pxe_spec();
  s.htype = 6;
  expect_drop(build_frame(s), DropReason::bad_hardware_type);
  s = pxe_spec();
  s.chaddr[5] = 0x57;  // relayed/spoofed: chaddr != Ethernet source
  expect_drop(build_frame(s), DropReason::chaddr_mismatch);
  s = pxe_spec();
  s.src[0] = s.chaddr[0] = 0x01;  // multicast
  expect_drop(build_frame(s), DropReason::bad_chaddr);
  s = pxe_spec();
  for (int i = 0; i < 6; ++i) s.src[i] = s.chaddr[i] = 0;
  expect_drop(build_frame(s), DropReason::bad_chaddr);
}

TEST(DhcpPacket, EveryTruncationIsDroppedNeverAccepted) {
  Bytes f = build_frame(pxe_spec());
  // The IP packet ends exactly at the frame's end: any shorter capture must
  // be refused with a truncation reason.
  for (std::size_t n = 0; n < f.size(); ++n) {
    Bytes cut(f.begin(), f.begin() + static_cast<long>(n));
    Outcome o = parse(cut);
    EXPECT_FALSE(o.ok) << "accepted a frame cut to " << n << " bytes";
    EXPECT_TRUE(is_invalid(o.reason)) << n << ": " << drop_reason_name(o.reason);
  }
  // Ethernet padding after the IP packet is normal.
  Bytes padded = f;
  padded.resize(f.size() + 40, 0);
  EXPECT_TRUE(parse(padded).ok);
}

TEST(DhcpPacket, PlainBootpAndRequest) {
  FrameSpec s = pxe_spec();
  s.cookie = false;
  s.options.clear();
  s.pad_to = 300;
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.kind, MessageKind::bootp);
  EXPECT_FALSE(o.req.is_pxe());

  s = pxe_spec();
  s.options = option(60, std::string("PXEClient"));  // cookie, no message type
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.kind, MessageKind::bootp);

  s = pxe_spec();
  s.options = option(53, Bytes{3});
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.kind, MessageKind::request);
}

TEST(DhcpPacket, MessageTypeValidated) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{8});  // INFORM
  expect_drop(build_frame(s), DropReason::other_message_type);
  s.options = option(53, Bytes{7});  // RELEASE
  expect_drop(build_frame(s), DropReason::other_message_type);
  s.options = option(53, Bytes{1, 1});
  expect_drop(build_frame(s), DropReason::bad_message_type);
  s.options = option(53, Bytes{});
  expect_drop(build_frame(s), DropReason::bad_message_type);
  s.options = option(53, Bytes{0});
  expect_drop(build_frame(s), DropReason::bad_message_type);
  s.options = option(53, Bytes{200});
  expect_drop(build_frame(s), DropReason::bad_message_type);
}

TEST(DhcpPacket, PadEndAndMissingEnd) {
  FrameSpec s = pxe_spec();
  Bytes o{0, 0, 0};
  Bytes body = pxe_options(false);
  o.insert(o.end(), body.begin(), body.end());
  o.push_back(0);
  s.options = o;  // no End, then zero padding (which are Pads)
  Outcome r = parse(build_frame(s));
  ASSERT_TRUE(r.ok) << drop_reason_name(r.reason);
  EXPECT_TRUE(r.req.is_pxe());
  // Garbage after End is ignored.
  s.options = pxe_options(true);
  s.options.insert(s.options.end(), {60, 200, 1, 2});
  s.pad_to = 0;
  r = parse(build_frame(s));
  ASSERT_TRUE(r.ok) << drop_reason_name(r.reason);
  EXPECT_EQ(r.req.vendor_class, "PXEClient:Arch:00007:UNDI:003016");
}

TEST(DhcpPacket, OptionOverrunsItsField) {
  FrameSpec s = pxe_spec();
  s.pad_to = 0;
  s.options = option(53, Bytes{1});
  s.options.insert(s.options.end(), {60, 50, 'P', 'X'});  // claims 50, has 2
  expect_drop(build_frame(s), DropReason::truncated_option);
  s.options = option(53, Bytes{1});
  s.options.push_back(60);  // code with no length byte
  expect_drop(build_frame(s), DropReason::truncated_option);
}

TEST(DhcpPacket, OverloadFileAndSname) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  Bytes ov = option(52, Bytes{3});
  s.options.insert(s.options.end(), ov.begin(), ov.end());
  s.options.push_back(255);
  s.file = option(60, std::string("PXEClient:Arch:00000"));
  s.file.push_back(255);
  s.sname = option(12, std::string("node-in-sname"));
  s.sname.push_back(255);
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.vendor_class, "PXEClient:Arch:00000");
  EXPECT_EQ(o.req.hostname, "node-in-sname");

  // Without overload, the same file/sname bytes are just names.
  s.options = option(53, Bytes{1});
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.vendor_class, "");
  EXPECT_EQ(o.req.hostname, "");

  // Overload 1 = file only.
  s.options = option(53, Bytes{1});
  ov = option(52, Bytes{1});
  s.options.insert(s.options.end(), ov.begin(), ov.end());
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.vendor_class, "PXEClient:Arch:00000");
  EXPECT_EQ(o.req.hostname, "");
}

TEST(DhcpPacket, OverloadValidatedAndNotRecursive) {
  FrameSpec s = pxe_spec();
  for (std::uint8_t bad : {0, 4, 255}) {
    s.options = option(53, Bytes{1});
    Bytes ov = option(52, Bytes{bad});
    s.options.insert(s.options.end(), ov.begin(), ov.end());
    expect_drop(build_frame(s), DropReason::bad_overload);
  }
  s.options = option(53, Bytes{1});
  Bytes ov = option(52, Bytes{1, 2});
  s.options.insert(s.options.end(), ov.begin(), ov.end());
  expect_drop(build_frame(s), DropReason::bad_overload);

  // 52 inside file must not make the parser read sname.
  s.options = option(53, Bytes{1});
  ov = option(52, Bytes{1});
  s.options.insert(s.options.end(), ov.begin(), ov.end());
  s.file = option(52, Bytes{2});
  s.sname = option(12, std::string("should-not-be-read"));
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.hostname, "");

  // A truncated option inside an overloaded field is as bad as anywhere.
  s.file = {60, 200, 'x'};
  expect_drop(build_frame(s), DropReason::truncated_option);
}

TEST(DhcpPacket, Rfc3396Concatenation) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  for (const char* part : {"PXECl", "ient:Arch", ":00007"}) {
    Bytes p = option(60, std::string(part));
    s.options.insert(s.options.end(), p.begin(), p.end());
  }
  Bytes ov = option(52, Bytes{1});
  s.options.insert(s.options.end(), ov.begin(), ov.end());
  s.file = option(60, std::string(":UNDI:003016"));
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok) << drop_reason_name(o.reason);
  EXPECT_EQ(o.req.vendor_class, "PXEClient:Arch:00007:UNDI:003016");

  // UUID split in two.
  s = pxe_spec();
  s.options = option(53, Bytes{1});
  Bytes a = option(97, Bytes{0, 1, 2, 3, 4, 5, 6, 7, 8});
  Bytes b = option(97, Bytes{9, 10, 11, 12, 13, 14, 15, 16});
  s.options.insert(s.options.end(), a.begin(), a.end());
  s.options.insert(s.options.end(), b.begin(), b.end());
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  ASSERT_TRUE(o.req.has_uuid);
  EXPECT_EQ(o.req.uuid[15], 16);
}

TEST(DhcpPacket, TooManyPiecesIsRefused) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  for (int i = 0; i < 60; ++i) {
    Bytes p = option(12, std::string("a"));
    s.options.insert(s.options.end(), p.begin(), p.end());
  }
  expect_drop(build_frame(s), DropReason::too_many_option_parts);
}

TEST(DhcpPacket, BinaryOptionsValidated) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  Bytes a = option(93, Bytes{0, 7, 1});  // odd length
  Bytes u = option(97, Bytes{1, 2, 3});  // wrong size
  s.options.insert(s.options.end(), a.begin(), a.end());
  s.options.insert(s.options.end(), u.begin(), u.end());
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);  // the request still counts; the options are ignored
  EXPECT_FALSE(o.req.has_arch);
  EXPECT_TRUE(o.req.bad_arch);
  EXPECT_FALSE(o.req.has_uuid);
  EXPECT_TRUE(o.req.bad_uuid);
  EXPECT_EQ(o.req.arch_name(), "");
  EXPECT_EQ(o.req.uuid_string(), "");

  s.options = option(53, Bytes{1});
  Bytes u16(16, 0xab);
  Bytes u16o = option(97, u16);  // 16 bytes without the type byte (old ROMs)
  s.options.insert(s.options.end(), u16o.begin(), u16o.end());
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_TRUE(o.req.has_uuid);

  s.options = option(53, Bytes{1});
  Bytes u17(17, 0xab);  // 17 bytes but type != 0
  Bytes u17o = option(97, u17);
  s.options.insert(s.options.end(), u17o.begin(), u17o.end());
  o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_TRUE(o.req.bad_uuid);
}

TEST(DhcpPacket, StringsMadePrintableAndNulTrimmed) {
  FrameSpec s = pxe_spec();
  s.options = option(53, Bytes{1});
  Bytes h = option(12, Bytes{'n', 0x1b, '[', '2', 'J', 'x', 0x00, 0x00});
  s.options.insert(s.options.end(), h.begin(), h.end());
  Bytes v = option(60, Bytes{'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 0x00});
  s.options.insert(s.options.end(), v.begin(), v.end());
  Outcome o = parse(build_frame(s));
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.req.hostname, "n?[2Jx");
  EXPECT_EQ(o.req.vendor_class, "PXEClient");
  EXPECT_TRUE(o.req.is_pxe());
}

TEST(DhcpPacket, IsPxeNeedsThePrefix) {
  DhcpRequest r;
  r.vendor_class = "PXEClien";
  EXPECT_FALSE(r.is_pxe());
  r.vendor_class = "pxeclient";
  EXPECT_FALSE(r.is_pxe());
  r.vendor_class = "PXEClient";
  EXPECT_TRUE(r.is_pxe());
  r.vendor_class = "HTTPClient:Arch:00016";
  EXPECT_FALSE(r.is_pxe());
}

TEST(DhcpPacket, CountersAndNames) {
  ParseCounters c;
  c.count(DropReason::ip_fragment);
  c.count(DropReason::ip_fragment);
  c.count(DropReason::not_to_server);  // not invalid
  EXPECT_EQ(c.invalid_total(), 2u);
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    EXPECT_NE(drop_reason_name(static_cast<DropReason>(i)), "unknown");
  }
}
