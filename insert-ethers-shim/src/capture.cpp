#include "capture.hpp"

#include <pcap/pcap.h>

namespace segbridge::shim {

// Each `vlan` keyword shifts the offsets of everything after it in the whole
// expression, not just its own clause: "... or (vlan and vlan and udp ...)"
// after a "(vlan and udp ...)" clause would look for three tags (verified
// with tcpdump on a bridge). Nesting keeps it at one and two tags.
const char* const kDhcpRequestFilter =
    "(udp dst port 67) or (vlan and (udp dst port 67 or (vlan and udp dst port 67)))";

namespace {

struct DispatchContext {
  const Capture::FrameHandler* handler;
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* ctx = reinterpret_cast<DispatchContext*>(user);
  const std::int64_t ts = std::int64_t{h->ts.tv_sec} * 1000000 + h->ts.tv_usec;
  (*ctx->handler)(bytes, h->caplen, h->len, ts);
}

}  // namespace

Capture::Capture(CaptureOptions options) : options_(std::move(options)) {}

Capture::~Capture() {
  close();
}

void Capture::close() {
  if (handle_) pcap_close(handle_);
  handle_ = nullptr;
  fd_ = -1;
}

bool Capture::open(std::string& error) {
  close();
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(options_.interface.c_str(), errbuf);
  if (!p) {
    error = errbuf;
    return false;
  }
  auto fail = [&](const std::string& what) {
    error = what;
    pcap_close(p);
    return false;
  };
  // Immediate mode: each frame is delivered at once (TPACKET_V2), which is
  // what the < 1 s capture→announce budget needs; throughput is tiny anyway.
  if (pcap_set_immediate_mode(p, 1) != 0) return fail("pcap_set_immediate_mode failed");
  pcap_set_snaplen(p, options_.snaplen);
  pcap_set_promisc(p, options_.promiscuous ? 1 : 0);
  pcap_set_buffer_size(p, options_.buffer_bytes);
  int rc = pcap_activate(p);
  if (rc < 0) return fail(std::string(pcap_statustostr(rc)) + ": " + pcap_geterr(p));
  if (pcap_datalink(p) != DLT_EN10MB) return fail("not an Ethernet interface");
  bpf_program prog{};
  if (pcap_compile(p, &prog, kDhcpRequestFilter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return fail(std::string("compile filter: ") + pcap_geterr(p));
  }
  rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc != 0) return fail(std::string("set filter: ") + pcap_geterr(p));
  // Only what arrives; our own injected frames (none) are irrelevant.
  pcap_setdirection(p, PCAP_D_INOUT);
  if (pcap_setnonblock(p, 1, errbuf) != 0) return fail(errbuf);
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) return fail("no selectable fd");
  handle_ = p;
  fd_ = fd;
  return true;
}

int Capture::dispatch(int max_frames, const FrameHandler& handler, std::string& error) {
  if (!handle_) return -1;
  DispatchContext ctx{&handler};
  int n = pcap_dispatch(handle_, max_frames, on_packet, reinterpret_cast<u_char*>(&ctx));
  if (n == PCAP_ERROR || n == PCAP_ERROR_BREAK) {
    error = pcap_geterr(handle_);
    return -1;
  }
  return n;
}

std::uint64_t Capture::kernel_drops() {
  if (!handle_) return 0;
  pcap_stat st{};
  if (pcap_stats(handle_, &st) != 0) return 0;
  return st.ps_drop;
}

}  // namespace segbridge::shim
