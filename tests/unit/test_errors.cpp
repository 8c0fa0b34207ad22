// Errors are typed once in drivers/error.h and mapped to D-Bus once in
// service/error_map.cpp; these tests pin libvirt's wording that clients
// match on.
#include <gtest/gtest.h>

#include "bus/message.h"
#include "error.h"
#include "error_map.h"

using namespace virtbus;

namespace {
std::pair<std::string, std::string> mapped(std::exception_ptr e)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    int r = setBusError(&err, e);
    EXPECT_LT(r, 0);
    std::pair<std::string, std::string> out{err.name ? err.name : "", err.message ? err.message : ""};
    sd_bus_error_free(&err);
    return out;
}
} // namespace

TEST(Errors, LibvirtWording)
{
    EXPECT_STREQ(err::noDomain("no domain with matching name 'x'").what(),
                 "Domain not found: no domain with matching name 'x'");
    EXPECT_STREQ(err::operationInvalid("domain is not running").what(),
                 "Requested operation is not valid: domain is not running");
    EXPECT_STREQ(err::notSupported("virDomainX").what(),
                 "this function is not supported by the connection driver: virDomainX");
    EXPECT_STREQ(err::unsupportedFlags(0x40, "testDomainCreate").what(),
                 "unsupported flags (0x40) in function testDomainCreate");
}

TEST(Errors, CheckFlagsReportsOnlyUnknownBits)
{
    EXPECT_NO_THROW(checkFlags(3, 7, "f"));
    try {
        checkFlags(0x13, 0x3, "testFn");
        FAIL() << "no error";
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::InvalidArg);
        EXPECT_STREQ(e.what(), "unsupported flags (0x10) in function testFn");
    }
}

TEST(Errors, MappedInOnePlace)
{
    auto v = mapped(std::make_exception_ptr(err::noDomain("no domain with matching id 5")));
    EXPECT_EQ(v.first, "org.libvirt.Error");
    EXPECT_EQ(v.second, "Domain not found: no domain with matching id 5");

    auto b = mapped(std::make_exception_ptr(bus::BusError(EINVAL, "read basic")));
    EXPECT_EQ(b.first, "org.freedesktop.DBus.Error.InvalidArgs");

    auto o = mapped(std::make_exception_ptr(std::runtime_error("boom")));
    EXPECT_EQ(o.first, "org.libvirt.Error");
    EXPECT_EQ(o.second, "internal error: boom");
}
