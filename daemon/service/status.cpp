#include "status.hpp"

#include <cstdio>
#include <sstream>

#include "segbridge/json_text.hpp"

namespace segbridge::daemon {
using segbridge::json_quote;

namespace {

std::string json_drops(const std::map<std::string, std::uint64_t>& drops) {
  std::string out = "{";
  bool first = true;
  for (const auto& [reason, count] : drops) {
    out += (first ? "" : ",") + json_quote(reason) + ":" + std::to_string(count);
    first = false;
  }
  return out + "}";
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

std::string to_json(const DaemonStatus& s) {
  std::ostringstream o;
  o << "{\"name\":" << json_quote(s.name) << ",\"role\":" << json_quote(s.role)
    << ",\"bridge\":" << json_quote(s.bridge) << ",\"drops\":" << json_drops(s.drops) << ",\"peers\":[";
  bool first = true;
  for (const auto& p : s.peers) {
    o << (first ? "" : ",") << "{\"name\":" << json_quote(p.name) << ",\"tap\":" << json_quote(p.tap)
      << ",\"state\":" << json_quote(p.state)
      << ",\"endpoint\":" << (p.endpoint.empty() ? "null" : json_quote(p.endpoint)) << ",\"last_handshake_age_s\":";
    if (p.last_handshake_age_s) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", *p.last_handshake_age_s);
      o << buf;
    } else {
      o << "null";
    }
    o << ",\"rx_bytes\":" << p.rx_bytes << ",\"tx_bytes\":" << p.tx_bytes << ",\"rx_frames\":" << p.rx_frames
      << ",\"tx_frames\":" << p.tx_frames << ",\"fragments\":{\"tx\":" << p.fragments_tx << ",\"rx\":" << p.fragments_rx
      << ",\"reassembled\":" << p.reassembled << "},\"replies_inline\":" << p.replies_inline
      << ",\"drops\":" << json_drops(p.drops) << ",\"macs\":[";
    bool f = true;
    for (const auto& m : p.macs) {
      o << (f ? "" : ",") << json_quote(m);
      f = false;
    }
    o << "]}";
    first = false;
  }
  o << "]}\n";
  return o.str();
}

std::string to_table(const DaemonStatus& s) {
  std::ostringstream o;
  o << s.name << " (" << s.role << "), bridge " << s.bridge << "\n";
  if (s.peers.empty()) {
    o << "no peers configured\n";
    return o.str();
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-12s %-15s %-12s %-24s %9s %12s %12s %10s %10s %7s\n", "PEER", "TAP", "STATE",
                "ENDPOINT", "HANDSHAKE", "RX", "TX", "RX FRAMES", "TX FRAMES", "DROPS");
  o << line;
  for (const auto& p : s.peers) {
    std::uint64_t drops = 0;
    for (const auto& d : p.drops) drops += d.second;
    std::string hs = "-";
    if (p.last_handshake_age_s) {
      char b[32];
      std::snprintf(b, sizeof b, "%.0fs ago", *p.last_handshake_age_s);
      hs = b;
    }
    std::snprintf(line, sizeof line, "%-12s %-15s %-12s %-24s %9s %12s %12s %10llu %10llu %7llu\n", p.name.c_str(),
                  p.tap.c_str(), p.state.c_str(), p.endpoint.empty() ? "-" : p.endpoint.c_str(), hs.c_str(),
                  human_bytes(p.rx_bytes).c_str(), human_bytes(p.tx_bytes).c_str(),
                  static_cast<unsigned long long>(p.rx_frames), static_cast<unsigned long long>(p.tx_frames),
                  static_cast<unsigned long long>(drops));
    o << line;
  }
  for (const auto& p : s.peers) {
    if (!p.macs.empty()) {
      o << "\nbehind " << p.tap << ":";
      for (const auto& m : p.macs) o << " " << m;
    }
    bool any = false;
    for (const auto& d : p.drops) {
      if (d.second == 0) continue;
      o << (any ? ", " : "\n" + p.name + " drops: ") << d.first << "=" << d.second;
      any = true;
    }
    if (p.fragments_tx || p.fragments_rx) {
      o << "\n"
        << p.name << " fragments: tx " << p.fragments_tx << ", rx " << p.fragments_rx << ", reassembled "
        << p.reassembled;
    }
  }
  o << "\n";
  return o.str();
}

}  // namespace segbridge::daemon
