// The typed message layer: every C++ type the generated glue uses must
// write the signature the interface XML declares and read back unchanged.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/message.h"

using namespace virtbus;
using namespace virtbus::bus;

namespace {

// A bus object that never connects anywhere: enough to build messages.
class MessageTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
        ASSERT_GE(sd_bus_new(&bus_), 0);
        ASSERT_GE(sd_bus_set_fd(bus_, fds_[0], fds_[0]), 0);
        ASSERT_GE(sd_bus_start(bus_), 0);
    }
    void TearDown() override
    {
        sd_bus_close_unref(bus_);
        close(fds_[1]);
    }
    sd_bus_message* fresh()
    {
        sd_bus_message* m = nullptr;
        EXPECT_GE(sd_bus_message_new_signal(bus_, &m, "/x", "org.example.X", "S"), 0);
        return m;
    }
    static void seal(sd_bus_message* m)
    {
        ASSERT_GE(sd_bus_message_seal(m, 1, 0), 0);
        ASSERT_GE(sd_bus_message_rewind(m, true), 0);
    }
    sd_bus* bus_ = nullptr;
    int fds_[2] = {-1, -1};
};

} // namespace

TEST_F(MessageTest, SignaturesOfCompositeTypes)
{
    EXPECT_EQ((Sig<std::tuple<int32_t, int32_t>>::str()), "(ii)");
    EXPECT_EQ((Sig<std::vector<std::vector<bool>>>::str()), "aab");
    EXPECT_EQ((Sig<Dict<int32_t, uint64_t>>::str()), "a{it}");
    EXPECT_EQ((Sig<std::vector<std::tuple<std::string, TypedParams>>>::str()), "a(sa{sv})");
    EXPECT_EQ((Sig<std::vector<std::tuple<std::string, std::string,
                                          std::vector<std::tuple<int32_t, std::string, uint32_t>>>>>::str()),
              "a(ssa(isu))");
}

TEST_F(MessageTest, RoundTrip)
{
    sd_bus_message* m = fresh();
    std::tuple<std::string, int32_t> st{"fair", 1};
    std::vector<std::vector<bool>> pins{{true, false}, {false, true}};
    Dict<std::string, uint64_t> stats{{"user", 5}, {"kernel", 7}};
    Writer(m).putAll(st, pins, stats, ObjectPath{"/org/libvirt/Test"}, uint64_t(1) << 40, false);
    EXPECT_STREQ(sd_bus_message_get_signature(m, true), "(si)aaba{st}otb");
    seal(m);
    auto [st2, pins2, stats2, path2, big2, b2] =
        Reader(m).readAll<std::tuple<std::string, int32_t>, std::vector<std::vector<bool>>,
                          Dict<std::string, uint64_t>, ObjectPath, uint64_t, bool>();
    EXPECT_EQ(st2, st);
    EXPECT_EQ(pins2, pins);
    EXPECT_EQ(stats2, stats);
    EXPECT_EQ(path2.value, "/org/libvirt/Test");
    EXPECT_EQ(big2, uint64_t(1) << 40);
    EXPECT_FALSE(b2);
    sd_bus_message_unref(m);
}

// libvirt-dbus's format: a{sv} whose values are variants holding variants.
TEST_F(MessageTest, TypedParamsWrappedTwiceAndReadBack)
{
    sd_bus_message* m = fresh();
    TypedParams p{{"weight", uint32_t(50)}, {"name", std::string("x")}, {"cap", int64_t(-3)}};
    Writer(m).put(p);
    seal(m);
    ASSERT_GE(sd_bus_message_enter_container(m, 'a', "{sv}"), 0);
    ASSERT_GT(sd_bus_message_enter_container(m, 'e', "sv"), 0);
    const char* name = nullptr;
    ASSERT_GE(sd_bus_message_read_basic(m, 's', &name), 0);
    EXPECT_STREQ(name, "weight");
    char type = 0;
    const char* contents = nullptr;
    ASSERT_GE(sd_bus_message_peek_type(m, &type, &contents), 0);
    EXPECT_EQ(type, 'v');
    EXPECT_STREQ(contents, "v");
    ASSERT_GE(sd_bus_message_rewind(m, true), 0);

    TypedParams back;
    Reader(m).get(back);
    ASSERT_EQ(back.size(), 3u);
    EXPECT_EQ(std::get<uint32_t>(back[0].value), 50u);
    EXPECT_EQ(std::get<std::string>(back[1].value), "x");
    EXPECT_EQ(std::get<int64_t>(back[2].value), -3);
    sd_bus_message_unref(m);
}

TEST_F(MessageTest, WrongShapeIsABusError)
{
    sd_bus_message* m = fresh();
    Writer(m).putAll(std::string("x"));
    seal(m);
    EXPECT_THROW((Reader(m).readAll<uint32_t>()), BusError);
    sd_bus_message_unref(m);
}
