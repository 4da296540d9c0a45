// A bundle's payloads read (decompressed and hashed) on a thread of their own while the caller
// writes them out: reading and writing each take one core instead of taking turns on one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "manifests/bundle_reader.h"
#include "manifests/sha256.h"

namespace hotfix {

// What the calling thread does with the payloads, in archive order: begin, the blob's bytes
// in one or more pieces (none for an empty blob), end.
struct PayloadHandler {
  std::function<void(const Sha256Digest& digest, std::uint64_t size)> begin;
  std::function<void(std::span<const char> bytes)> data;
  std::function<void()> end;
};

struct ReadAheadOptions {
  std::size_t batch_bytes = std::size_t{1} << 20;  // handed over at a time
  std::size_t batches = 4;                         // in flight at most (memory: their product)
};

// Like BundleReader::for_each_payload, with the reading on a second thread: blobs for which
// `wanted` (called on the reading thread) is false are read and checked there but not handed
// over. The handler runs on the calling thread only. Returns once every payload was read and
// checked: a bad payload throws here, possibly after the handler saw its bytes (treat them as
// untrusted until this returns). When the handler throws, reading stops and that error is
// rethrown.
void for_each_payload_read_ahead(BundleReader& reader,
                                 const std::function<bool(const Sha256Digest&)>& wanted,
                                 const PayloadHandler& handler,
                                 const ReadAheadOptions& options = {});

}  // namespace hotfix
