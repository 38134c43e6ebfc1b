#include "segbridge/core/reassembler.hpp"

#include <cstring>

namespace segbridge::core {

struct Reassembler::Slot {
  bool used = false;
  std::uint32_t session_index = 0;
  std::uint64_t base = 0;  // counter of fragment 0: identifies the frame
  std::uint16_t frame_length = 0;
  std::uint8_t count = 0;
  std::uint8_t received = 0;
  std::uint8_t highest_index = 0;
  std::uint32_t have = 0;  // bit i: fragment i present (kMaxFragments <= 32)
  TimePoint started{};
  std::unique_ptr<std::uint8_t[]> buffer;  // kMaxFrameSize, allocated on first use, then kept
};

static_assert(kMaxFragments <= 32, "fragment bitmap is 32 bits");

Reassembler::Reassembler(std::size_t max_slots, Duration timeout) : max_slots_(max_slots), timeout_(timeout) {
  slots_.reserve(max_slots_);
}

Reassembler::~Reassembler() = default;

void Reassembler::drop_slot(Slot& slot) {
  stats_.missing += static_cast<std::uint64_t>(slot.count - slot.received);
  slot.used = false;
}

Reassembler::Slot* Reassembler::find_or_claim(std::uint32_t session_index, std::uint64_t base, const DataHeader& h,
                                              TimePoint now) {
  Slot* free_slot = nullptr;
  Slot* oldest = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      if (!free_slot) free_slot = &s;
      continue;
    }
    if (s.session_index == session_index && s.base == base) return &s;
    if (now - s.started >= timeout_) {
      ++stats_.timed_out;
      drop_slot(s);
      if (!free_slot) free_slot = &s;
      continue;
    }
    if (!oldest || s.started < oldest->started) oldest = &s;
  }
  if (!free_slot && slots_.size() < max_slots_) {
    slots_.emplace_back();
    free_slot = &slots_.back();
  }
  if (!free_slot) {
    ++stats_.evicted;
    drop_slot(*oldest);
    free_slot = oldest;
  }
  Slot& s = *free_slot;
  if (!s.buffer) s.buffer.reset(new std::uint8_t[kMaxFrameSize]);
  s.used = true;
  s.session_index = session_index;
  s.base = base;
  s.frame_length = h.frame_length;
  s.count = h.fragment_count;
  s.received = 0;
  s.highest_index = 0;
  s.have = 0;
  s.started = now;
  return &s;
}

Reassembler::Result Reassembler::add(std::uint32_t session_index, const DataHeader& h, ConstBytes payload,
                                     TimePoint now) {
  if (h.kind != DataKind::fragment || h.fragment_count < 2 || h.fragment_count > kMaxFragments ||
      h.fragment_index >= h.fragment_count || h.frame_length > kMaxFrameSize || h.counter < h.fragment_index) {
    ++stats_.inconsistent;
    return {Status::inconsistent, {}};
  }
  auto geometry = fragment_geometry(h.frame_length, h.fragment_count, h.fragment_index);
  if (geometry.size != payload.size) {
    ++stats_.inconsistent;
    return {Status::inconsistent, {}};
  }
  std::uint64_t base = h.counter - h.fragment_index;
  Slot* s = find_or_claim(session_index, base, h, now);
  if (s->frame_length != h.frame_length || s->count != h.fragment_count) {
    // Same (session, base counter) but different shape: only a buggy or
    // malicious sender with the key can do this. Drop the whole frame.
    ++stats_.inconsistent;
    drop_slot(*s);
    return {Status::inconsistent, {}};
  }
  std::uint32_t bit = 1u << h.fragment_index;
  if (s->have & bit) {
    ++stats_.duplicate;
    return {Status::duplicate, {}};
  }
  if (s->received > 0 && h.fragment_index < s->highest_index) ++stats_.out_of_order;
  if (h.fragment_index > s->highest_index) s->highest_index = h.fragment_index;
  std::memcpy(s->buffer.get() + geometry.offset, payload.data, payload.size);
  s->have |= bit;
  ++s->received;
  ++stats_.fragments;
  if (s->received < s->count) return {Status::partial, {}};
  s->used = false;  // the buffer stays valid until the slot is claimed again (next add)
  ++stats_.reassembled;
  return {Status::complete, ConstBytes(s->buffer.get(), s->frame_length)};
}

std::size_t Reassembler::expire(TimePoint now) {
  std::size_t n = 0;
  for (auto& s : slots_) {
    if (s.used && now - s.started >= timeout_) {
      ++stats_.timed_out;
      drop_slot(s);
      ++n;
    }
  }
  return n;
}

void Reassembler::clear() {
  for (auto& s : slots_) s.used = false;
}

std::size_t Reassembler::partial_frames() const {
  std::size_t n = 0;
  for (auto& s : slots_) n += s.used ? 1 : 0;
  return n;
}

std::size_t Reassembler::allocated_bytes() const {
  std::size_t n = 0;
  for (auto& s : slots_) n += s.buffer ? kMaxFrameSize : 0;
  return n;
}

}  // namespace segbridge::core
