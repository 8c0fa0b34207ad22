// libvirt's scaled integers counted in bytes (<capacity unit='G'>10</capacity>),
// as the storage formats use them; the domain format counts KiB instead
// (parseMemoryKiB).
#pragma once

#include <cstdint>
#include <string_view>

namespace virtbus::xml {

// "<n>" scaled by `unit`: "" and b/byte/bytes are bytes, k/KiB/M/MiB/... are
// powers of 1024 and KB/MB/... powers of 1000, case-insensitive, up to
// exabytes. The result never exceeds INT64_MAX (file sizes are off_t).
// Throws XmlError naming `what` ("<capacity>") on a bad value or unit and
// Overflow when the product is too large.
uint64_t parseByteSize(std::string_view value, std::string_view unit, std::string_view what);

} // namespace virtbus::xml
