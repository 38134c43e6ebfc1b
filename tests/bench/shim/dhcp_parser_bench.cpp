// Google Benchmark of the shim's DHCP decoder on real client frames (target:
// over 1 million packets/s on one core). Run by hand:
//   ./build/tests/bench/shim/shim_parser_bench
#include <benchmark/benchmark.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "dhcp_packet.hpp"

namespace {

using Frame = std::vector<std::uint8_t>;

Frame first_frame(const std::string& name) {
  char err[PCAP_ERRBUF_SIZE];
  const std::string path = std::string(SHIM_TEST_DATA_DIR) + "/" + name;
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (!p) throw std::runtime_error(err);
  pcap_pkthdr* h;
  const u_char* d;
  if (pcap_next_ex(p, &h, &d) != 1) throw std::runtime_error("empty " + path);
  Frame f(d, d + h->caplen);
  pcap_close(p);
  return f;
}

Frame tagged(const Frame& f) {
  static const std::uint8_t tag[4] = {0x81, 0x00, 0x00, 0x2a};
  Frame t(f.size() + 4);
  std::copy(f.begin(), f.begin() + 12, t.begin());
  std::copy(tag, tag + 4, t.begin() + 12);
  std::copy(f.begin() + 12, f.end(), t.begin() + 16);
  return t;
}

void run(benchmark::State& state, const std::vector<Frame>& frames) {
  segbridge::shim::DhcpRequest req;
  segbridge::shim::DropReason reason{};
  std::size_t i = 0, ok = 0;
  for (auto _ : state) {
    const Frame& f = frames[i++ % frames.size()];
    ok += segbridge::shim::parse_dhcp_frame(f.data(), f.size(), req, reason) ? 1 : 0;
    benchmark::DoNotOptimize(req);
  }
  if (ok == 0) state.SkipWithError("no frame parsed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_ParseIpxeDiscover(benchmark::State& state) {
  static const std::vector<Frame> frames{first_frame("ipxe.pcap")};
  run(state, frames);
}
void BM_ParseDhclientDiscover(benchmark::State& state) {
  static const std::vector<Frame> frames{first_frame("dhclient.pcap")};
  run(state, frames);
}
void BM_ParseVlanTaggedIpxe(benchmark::State& state) {
  static const std::vector<Frame> frames{tagged(first_frame("ipxe.pcap"))};
  run(state, frames);
}
void BM_ParseMixed(benchmark::State& state) {
  static const std::vector<Frame> frames{first_frame("ipxe.pcap"), first_frame("dhclient.pcap"),
                                         first_frame("udhcpc.pcap"), tagged(first_frame("ipxe.pcap"))};
  run(state, frames);
}

}  // namespace

BENCHMARK(BM_ParseIpxeDiscover);
BENCHMARK(BM_ParseDhclientDiscover);
BENCHMARK(BM_ParseVlanTaggedIpxe);
BENCHMARK(BM_ParseMixed);
