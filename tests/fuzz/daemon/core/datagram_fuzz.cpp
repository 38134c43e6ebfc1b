// Random datagrams into a Device that has an established session: decoding,
// index lookup, AEAD, handshake parsing must reject or accept without crashing,
// never reply to garbage, and any delivered frame must fit its buffer.
// The first input byte selects a mode: 0 = raw bytes; 1 = a valid sealed frame
// of the live session with input bytes XORed into it (reaches AEAD/replay).
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "segbridge/core/device.hpp"
#include "segbridge/core/psk_handshake.hpp"

using namespace segbridge::core;

namespace {
struct World {
  TimePoint now = TimePoint(std::chrono::hours(1));
  std::uint64_t wall = 1'000'000'000;
  SecretKey psk;
  std::unique_ptr<Device> hub, spoke;
  std::shared_ptr<Peer> hub_peer, spoke_peer;
  DatagramBatch out{64, 2048};
  Endpoint hub_ep = *Endpoint::parse("192.0.2.1:7440"), spoke_ep = *Endpoint::parse("192.0.2.2:7440");

  World() {
    if (sodium_init() < 0) std::abort();
    std::uint8_t fixed[32] = {7};
    psk = SecretKey(fixed);
    hub = std::make_unique<Device>(
        DeviceConfig{}, std::make_unique<PskHandshaker>("hub", locally_available_aeads(), [this] { return wall; }));
    spoke = std::make_unique<Device>(
        DeviceConfig{}, std::make_unique<PskHandshaker>("sitea", locally_available_aeads(), [this] { return wall; }));
    PeerConfig a;
    a.name = "sitea";
    a.credentials.psk = psk;
    PeerConfig b;
    b.name = "hub";
    b.endpoint = hub_ep;
    b.persistent = true;
    b.credentials.psk = psk;
    std::string e;
    hub_peer = hub->add_peer(a, &e);
    spoke_peer = spoke->add_peer(b, &e);
    spoke->on_timer(now, out);
    for (int round = 0; round < 4; ++round) {
      std::vector<std::vector<std::uint8_t>> q;
      for (auto& d : out) q.emplace_back(d.data, d.data + d.size);
      out.clear();
      for (auto& d : q) {
        bool to_hub = round % 2 == 0;
        (to_hub ? hub : spoke)->on_datagram(MutableBytes(d.data(), d.size()), to_hub ? spoke_ep : hub_ep, now, out);
      }
    }
    hub->on_timer(now, out);
    out.clear();
  }
};
World& world() {
  static World w;
  return w;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  if (size == 0) return 0;
  std::vector<std::uint8_t> d;
  if (data[0] == 1 && size > 1) {
    std::vector<std::uint8_t> frame(60 + (size % 3000), 0x42);
    w.out.clear();
    w.spoke->send_frame(*w.spoke_peer, ConstBytes(frame.data(), frame.size()), w.now, w.out);
    if (w.out.empty()) return 0;
    d.assign(w.out[0].data, w.out[0].data + w.out[0].size);
    for (std::size_t i = 1; i < size; ++i) d[(i - 1) % d.size()] ^= data[i];
  } else {
    d.assign(data + 1, data + size);
  }
  w.out.clear();
  auto r = w.hub->on_datagram(MutableBytes(d.data(), d.size()), w.spoke_ep, w.now, w.out);
  if (r.drop != DropReason::none && w.out.size() != 0) std::abort();  // silence on rejection
  if (!r.frame.empty() && r.frame.size > kMaxFrameSize) std::abort();
  w.out.clear();
  return 0;
}
