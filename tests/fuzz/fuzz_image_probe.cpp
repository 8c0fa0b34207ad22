// libFuzzer target for the image header probe (drivers/storage/storage_file):
// the first bytes of any file a pool holds are untrusted. Any input must
// probe without crashing, and what it reports must stay within the input.
#include "storage/storage_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    int fd = memfd_create("probe", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != static_cast<ssize_t>(size)) {
        close(fd);
        return 0;
    }
    virtbus::storage::ImageFacts f = virtbus::storage::probeImage(fd);
    close(fd);
    if (f.format.empty() || f.backingPath.size() > 1023 || f.backingFormat.size() > size)
        std::abort();
    return 0;
}
