// Guest input and consoles without a guest: keycode translation to qnum,
// and console sessions relayed over a real pty pair (this test holds the
// master, as QEMU does).
#include "qemu/qemu_console_relay.h"
#include "qemu/qemu_keymap.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

using namespace virtbus;
using namespace virtbus::qemu;

TEST(Keymap, EverySetReachesQnum)
{
    // KEY_H, KEY_KPENTER (e0 1c), KEY_UP (e0 48) in each set.
    EXPECT_EQ(toQnum(kCodesetLinux, 35), 0x23);
    EXPECT_EQ(toQnum(kCodesetLinux, 96), 0x9c);
    EXPECT_EQ(toQnum(kCodesetLinux, 103), 0xc8);
    EXPECT_EQ(toQnum(kCodesetXtKbd, 0x148), 0xc8);
    EXPECT_EQ(toQnum(kCodesetAtset1, 0x23), 0x23);
    EXPECT_EQ(toQnum(kCodesetAtset1, 0xe048), 0xc8);
    EXPECT_EQ(toQnum(kCodesetAtset2, 51), 0x23);
    EXPECT_EQ(toQnum(kCodesetAtset3, 51), 0x23);
    EXPECT_EQ(toQnum(kCodesetXt, 109), 0xc8);
    EXPECT_EQ(toQnum(kCodesetOsx, 0x4), 0x23);
    EXPECT_EQ(toQnum(kCodesetUsb, 11), 0x23);
    EXPECT_EQ(toQnum(kCodesetUsb, 82), 0xc8);
    EXPECT_EQ(toQnum(kCodesetWin32, 0x48), 0x23);
    EXPECT_EQ(toQnum(kCodesetWin32, 0x11), 0x1d); // VK_CONTROL is the left Ctrl
    EXPECT_EQ(toQnum(kCodesetQnum, 0x23), 0x23);
    EXPECT_STREQ(codesetName(kCodesetOsx), "os_x");
}

TEST(Keymap, UnknownCodesAreRefused)
{
    EXPECT_EQ(toQnum(kCodesetLinux, 0), -1);
    EXPECT_EQ(toQnum(kCodesetLinux, 767), -1);
    EXPECT_EQ(toQnum(kCodesetQnum, 0x100), -1);
    EXPECT_EQ(toQnum(kCodesetAtset1, 0xe0ff), -1);
    EXPECT_EQ(toQnum(kCodesetUsb, 0xffff), -1);
    EXPECT_EQ(toQnum(kCodesetCount, 1), -1);
}

namespace {

struct Pty {
    int master = -1;
    std::string slave;
    Pty()
    {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        EXPECT_GE(master, 0);
        grantpt(master);
        unlockpt(master);
        slave = ptsname(master);
        termios t {};
        int fd = open(slave.c_str(), O_RDWR | O_NOCTTY);
        tcgetattr(fd, &t);
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
        close(fd);
    }
    ~Pty()
    {
        if (master >= 0)
            close(master);
    }
    std::function<UniqueFd()> opener() const
    {
        return [path = slave] { return UniqueFd(open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC)); };
    }
};

// Reads until `want` arrived or EOF; "" + EOF flag through `eof`.
std::string readFor(int fd, size_t want, bool* eof = nullptr, int timeoutMs = 5000)
{
    std::string got;
    while (got.size() < want) {
        pollfd p {fd, POLLIN, 0};
        if (poll(&p, 1, timeoutMs) <= 0)
            break;
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (eof)
                *eof = true;
            break;
        }
        got.append(buf, size_t(n));
    }
    return got;
}

} // namespace

TEST(ConsoleRelay, RelaysBothWaysAndOneClientAtATime)
{
    Pty pty;
    ConsoleRelays relays;
    UniqueFd a(relays.open("dom:" + pty.slave, pty.opener(), false));
    ASSERT_EQ(write(pty.master, "from-guest", 10), 10);
    EXPECT_EQ(readFor(a.get(), 10), "from-guest");
    ASSERT_EQ(write(a.get(), "to-guest", 8), 8);
    EXPECT_EQ(readFor(pty.master, 8), "to-guest");

    // Busy: refused without force, taken over with it.
    try {
        relays.open("dom:" + pty.slave, pty.opener(), false);
        ADD_FAILURE() << "a second client was let in";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("Active console session exists for this domain"), std::string::npos);
    }
    UniqueFd b(relays.open("dom:" + pty.slave, pty.opener(), true));
    bool eof = false;
    readFor(a.get(), 1, &eof);
    EXPECT_TRUE(eof) << "the first client still reads";
    ASSERT_EQ(write(pty.master, "second", 6), 6);
    EXPECT_EQ(readFor(b.get(), 6), "second");
    EXPECT_EQ(relays.active(), 1u);

    // The client leaves: the device is free again.
    b.reset();
    for (int i = 0; i < 100 && relays.active(); ++i)
        usleep(10000);
    EXPECT_EQ(relays.active(), 0u);
    UniqueFd c(relays.open("dom:" + pty.slave, pty.opener(), false));
    ASSERT_EQ(write(c.get(), "third", 5), 5);
    EXPECT_EQ(readFor(pty.master, 5), "third");
}

TEST(ConsoleRelay, DeviceGoneEndsTheSession)
{
    auto pty = std::make_unique<Pty>();
    ConsoleRelays relays;
    UniqueFd a(relays.open("k", pty->opener(), false));
    pty.reset(); // QEMU exits: the master closes
    bool eof = false;
    readFor(a.get(), 1, &eof);
    EXPECT_TRUE(eof);
}
