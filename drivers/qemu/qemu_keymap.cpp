// Keycode translation for SendKey: every libvirt keycode set to QEMU's
// "qnum" numbering (XT scancodes, 0x80 set for the e0-prefixed keys), which
// QMP send-key takes as {"type": "number"} keys. The facts are the public
// keycode map shared by QEMU, libvirt and GTK-VNC (keycodemapdb); the
// table covers the keys of a 105-key PC keyboard plus F13-F24 and the
// common media keys. A code outside it is refused as libvirt refuses a code
// its tables do not know.
#include "qemu/qemu_keymap.h"

#include <array>

namespace virtbus::qemu {

namespace {

// One key: its code in each set, -1 where the set has none. xtkbd is the
// Linux XT keyboard driver's numbering (0x100 + code for e0 keys): the
// qnum follows from it.
struct Key {
    int16_t lnx, xtkbd, xt, atset2, atset3, osx, usb, win32;
};

constexpr Key kKeys[] = {
    {1, 1, 1, 118, 8, 0x35, 41, 0x1b},
    {2, 2, 2, 22, 22, 0x12, 30, 0x31},
    {3, 3, 3, 30, 30, 0x13, 31, 0x32},
    {4, 4, 4, 38, 38, 0x14, 32, 0x33},
    {5, 5, 5, 37, 37, 0x15, 33, 0x34},
    {6, 6, 6, 46, 46, 0x17, 34, 0x35},
    {7, 7, 7, 54, 54, 0x16, 35, 0x36},
    {8, 8, 8, 61, 61, 0x1a, 36, 0x37},
    {9, 9, 9, 62, 62, 0x1c, 37, 0x38},
    {10, 10, 10, 70, 70, 0x19, 38, 0x39},
    {11, 11, 11, 69, 69, 0x1d, 39, 0x30},
    {12, 12, 12, 78, 78, 0x1b, 45, 0xbd},
    {13, 13, 13, 85, 85, 0x18, 46, 0xbb},
    {14, 14, 14, 102, 102, 0x33, 42, 0x08},
    {15, 15, 15, 13, 13, 0x30, 43, 0x09},
    {16, 16, 16, 21, 21, 0xc, 20, 0x51},
    {17, 17, 17, 29, 29, 0xd, 26, 0x57},
    {18, 18, 18, 36, 36, 0xe, 8, 0x45},
    {19, 19, 19, 45, 45, 0xf, 21, 0x52},
    {20, 20, 20, 44, 44, 0x11, 23, 0x54},
    {21, 21, 21, 53, 53, 0x10, 28, 0x59},
    {22, 22, 22, 60, 60, 0x20, 24, 0x55},
    {23, 23, 23, 67, 67, 0x22, 12, 0x49},
    {24, 24, 24, 68, 68, 0x1f, 18, 0x4f},
    {25, 25, 25, 77, 77, 0x23, 19, 0x50},
    {26, 26, 26, 84, 84, 0x21, 47, 0xdb},
    {27, 27, 27, 91, 91, 0x1e, 48, 0xdd},
    {28, 28, 28, 90, 90, 0x24, 40, 0x0d},
    {29, 29, 29, 20, 17, 0x3b, 224, 0xa2},
    {30, 30, 30, 28, 28, 0x0, 4, 0x41},
    {31, 31, 31, 27, 27, 0x1, 22, 0x53},
    {32, 32, 32, 35, 35, 0x2, 7, 0x44},
    {33, 33, 33, 43, 43, 0x3, 9, 0x46},
    {34, 34, 34, 52, 52, 0x5, 10, 0x47},
    {35, 35, 35, 51, 51, 0x4, 11, 0x48},
    {36, 36, 36, 59, 59, 0x26, 13, 0x4a},
    {37, 37, 37, 66, 66, 0x28, 14, 0x4b},
    {38, 38, 38, 75, 75, 0x25, 15, 0x4c},
    {39, 39, 39, 76, 76, 0x29, 51, 0xba},
    {40, 40, 40, 82, 82, 0x27, 52, 0xde},
    {41, 41, 41, 14, 14, 0x32, 53, 0xc0},
    {42, 42, 42, 18, 18, 0x38, 225, 0xa0},
    {43, 43, 43, 93, 93, 0x2a, 50, 0xdc},
    {44, 44, 44, 26, 26, 0x6, 29, 0x5a},
    {45, 45, 45, 34, 34, 0x7, 27, 0x58},
    {46, 46, 46, 33, 33, 0x8, 6, 0x43},
    {47, 47, 47, 42, 42, 0x9, 25, 0x56},
    {48, 48, 48, 50, 50, 0xb, 5, 0x42},
    {49, 49, 49, 49, 49, 0x2d, 17, 0x4e},
    {50, 50, 50, 58, 58, 0x2e, 16, 0x4d},
    {51, 51, 51, 65, 65, 0x2b, 54, 0xbc},
    {52, 52, 52, 73, 73, 0x2f, 55, 0xbe},
    {53, 53, 53, 74, 74, 0x2c, 56, 0xbf},
    {54, 54, 54, 89, 89, 0x3c, 229, 0xa1},
    {55, 55, 55, 124, 126, 0x43, 85, 0x6a},
    {56, 56, 56, 17, 25, 0x3a, 226, 0xa4},
    {57, 57, 57, 41, 41, 0x31, 44, 0x20},
    {58, 58, 58, 88, 20, 0x39, 57, 0x14},
    {59, 59, 59, 5, 7, 0x7a, 58, 0x70},
    {60, 60, 60, 6, 15, 0x78, 59, 0x71},
    {61, 61, 61, 4, 23, 0x63, 60, 0x72},
    {62, 62, 62, 12, 31, 0x76, 61, 0x73},
    {63, 63, 63, 3, 39, 0x60, 62, 0x74},
    {64, 64, 64, 11, 47, 0x61, 63, 0x75},
    {65, 65, 65, 259, 55, 0x62, 64, 0x76},
    {66, 66, 66, 10, 63, 0x64, 65, 0x77},
    {67, 67, 67, 1, 71, 0x65, 66, 0x78},
    {68, 68, 68, 9, 79, 0x6d, 67, 0x79},
    {69, 69, 69, 119, 118, -1, 83, 0x90},
    {70, 70, 70, 126, 95, -1, 71, 0x91},
    {71, 71, 71, 108, 108, 0x59, 95, 0x67},
    {72, 72, 72, 117, 117, 0x5b, 96, 0x68},
    {73, 73, 73, 125, 125, 0x5c, 97, 0x69},
    {74, 74, 74, 123, 132, 0x4e, 86, 0x6d},
    {75, 75, 75, 107, 107, 0x56, 92, 0x64},
    {76, 76, 76, 115, 115, 0x57, 93, 0x65},
    {77, 77, 77, 116, 116, 0x58, 94, 0x66},
    {78, 78, 78, 121, 124, 0x45, 87, 0x6b},
    {79, 79, 79, 105, 105, 0x53, 89, 0x61},
    {80, 80, 80, 114, 114, 0x54, 90, 0x62},
    {81, 81, 81, 122, 122, 0x55, 91, 0x63},
    {82, 82, 82, 112, 112, 0x52, 98, 0x60},
    {83, 83, 83, 113, 113, 0x41, 99, 0x6e},
    {85, 118, -1, 95, -1, -1, 148, -1},
    {86, 86, -1, 97, 19, -1, 100, 0xe1},
    {87, 87, 101, 120, 86, 0x67, 68, 0x7a},
    {88, 88, 102, 7, 94, 0x6f, 69, 0x7b},
    {89, 115, -1, 81, -1, -1, 135, -1},
    {90, 120, -1, 99, -1, 0x68, 146, 0x15},
    {91, 119, -1, 98, -1, -1, 147, -1},
    {92, 121, -1, 100, 134, -1, 138, -1},
    {93, 112, -1, 19, 135, -1, 136, -1},
    {94, 123, -1, 103, 133, -1, 139, -1},
    {95, 92, -1, 39, -1, 0x5f, 140, -1},
    {96, 284, -1, 158, 121, 0x4c, 88, -1},
    {97, 285, -1, -1, 88, 0x3e, 228, 0xa3},
    {98, 309, -1, 181, 119, 0x4b, 84, 0x6f},
    {99, 84, -1, 260, 87, -1, 70, 0x2c},
    {100, 312, -1, -1, 57, 0x3d, 230, 0xa5},
    {102, 327, -1, 224, 110, 0x73, 74, 0x24},
    {103, 328, 109, 236, 99, 0x7e, 82, 0x26},
    {104, 329, -1, 201, 111, 0x74, 75, 0x21},
    {105, 331, 111, 203, 97, 0x7b, 80, 0x25},
    {106, 333, 112, 205, 106, 0x7c, 79, 0x27},
    {107, 335, -1, 225, 101, 0x77, 77, 0x23},
    {108, 336, 110, 254, 96, 0x7d, 81, 0x28},
    {109, 337, -1, 243, 109, 0x79, 78, 0x22},
    {110, 338, 107, 210, 103, -1, 73, 0x2d},
    {111, 339, 108, 244, 100, 0x75, 76, 0x2e},
    {112, 367, -1, 239, 142, -1, -1, -1},
    {113, 288, -1, 251, 156, 0x4a, 239, 0xad},
    {114, 302, -1, -1, 157, 0x49, 238, 0xae},
    {115, 304, -1, 233, 149, 0x48, 237, 0xaf},
    {116, 350, -1, -1, -1, -1, 102, -1},
    {117, 89, -1, 15, -1, 0x51, 103, -1},
    {119, 326, -1, 198, 98, -1, 72, 0x13},
    {121, 126, -1, 109, -1, 0x47, 133, 0x6c},
    {123, 269, -1, -1, -1, -1, 145, 0x19},
    {124, 125, -1, 106, -1, 0x5d, 137, -1},
    {125, 347, -1, -1, 139, 0x37, 227, 0x5b},
    {126, 348, -1, -1, 140, -1, 231, 0x5c},
    {127, 349, -1, -1, 141, 0x3f, 101, 0x5d},
    {183, 93, -1, 47, 127, 0x69, 104, 0x7c},
    {184, 94, -1, 55, 128, 0x6b, 105, 0x7d},
    {185, 95, -1, 63, 129, 0x71, 106, 0x7e},
    {186, 85, -1, -1, 130, 0x6a, 107, 0x7f},
    {187, 259, -1, -1, 131, 0x40, 108, 0x80},
    {188, 375, -1, -1, -1, 0x4f, 109, 0x81},
    {189, 260, -1, -1, -1, 0x50, 110, 0x82},
    {190, 90, -1, -1, -1, 0x5a, 111, 0x83},
    {191, 116, -1, -1, -1, -1, 112, 0x84},
    {192, 377, -1, -1, -1, -1, 113, 0x85},
    {193, 109, -1, -1, -1, -1, 114, 0x86},
    {194, 111, -1, -1, -1, -1, 115, 0x87},
    // Windows' generic modifier codes (VK_CONTROL, VK_SHIFT, VK_MENU).
    {29, 29, -1, -1, -1, -1, -1, 0x11},
    {42, 42, -1, -1, -1, -1, -1, 0x10},
    {56, 56, -1, -1, -1, -1, -1, 0x12},
};

int qnumOf(const Key& k)
{
    if (k.xtkbd < 0)
        return -1;
    return k.xtkbd >= 0x100 ? 0x80 | (k.xtkbd & 0x7f) : k.xtkbd;
}

bool knownQnum(int qnum)
{
    for (const Key& k : kKeys)
        if (qnumOf(k) == qnum)
            return true;
    return false;
}

int16_t Key::*column(uint32_t codeset)
{
    switch (codeset) {
    case kCodesetLinux: return &Key::lnx;
    case kCodesetXt: return &Key::xt;
    case kCodesetAtset2: return &Key::atset2;
    case kCodesetAtset3: return &Key::atset3;
    case kCodesetOsx: return &Key::osx;
    case kCodesetXtKbd: return &Key::xtkbd;
    case kCodesetUsb: return &Key::usb;
    case kCodesetWin32: return &Key::win32;
    default: return nullptr;
    }
}

constexpr std::array<const char*, kCodesetCount> kNames
    = {"linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum"};

} // namespace

const char* codesetName(uint32_t codeset) { return codeset < kNames.size() ? kNames[codeset] : ""; }

int toQnum(uint32_t codeset, uint32_t code)
{
    if (codeset == kCodesetQnum)
        return code <= 0xff && knownQnum(int(code)) ? int(code) : -1;
    if (codeset == kCodesetAtset1) {
        // Set 1 is qnum's source: a plain code, or e0 and the code.
        int q = -1;
        if (code < 0x80)
            q = int(code);
        else if ((code & 0xff00) == 0xe000 && (code & 0xff) < 0x80)
            q = 0x80 | int(code & 0x7f);
        return q > 0 && knownQnum(q) ? q : -1;
    }
    auto col = column(codeset);
    if (!col || code > 0x7fff)
        return -1;
    for (const Key& k : kKeys)
        if (k.*col == int(code))
            return qnumOf(k);
    return -1;
}

} // namespace virtbus::qemu
