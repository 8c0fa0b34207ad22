// libvirt's keycode sets (virKeycodeSet) and their translation to QEMU's
// qnum numbering (qemu_keymap.cpp).
#pragma once

#include <cstdint>

namespace virtbus::qemu {

enum : uint32_t {
    kCodesetLinux = 0,
    kCodesetXt = 1,
    kCodesetAtset1 = 2,
    kCodesetAtset2 = 3,
    kCodesetAtset3 = 4,
    kCodesetOsx = 5,
    kCodesetXtKbd = 6,
    kCodesetUsb = 7,
    kCodesetWin32 = 8,
    kCodesetQnum = 9, // also VIR_KEYCODE_SET_RFB
    kCodesetCount = 10,
};

// libvirt's name of a set ("linux", "os_x", ...), "" when out of range.
const char* codesetName(uint32_t codeset);
// The qnum of `code` in `codeset`, -1 when the set has no such key.
int toQnum(uint32_t codeset, uint32_t code);

} // namespace virtbus::qemu
