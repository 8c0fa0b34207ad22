// Hotplug documents and the device-list operations drivers build
// attach/detach/update on.
#include "error.h"
#include "xml/domain_xml.h"

#include <gtest/gtest.h>

using namespace virtbus;
using namespace virtbus::xml;

namespace {

DomainDef baseDomain()
{
    return parseDomainXML(R"(<domain type='test'>
  <name>dev</name>
  <uuid>11111111-2222-4333-8444-555555555555</uuid>
  <memory>1048576</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/img/a.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:00:00:01'/>
      <source network='default'/>
    </interface>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <serial type='pty'><target port='0'/></serial>
    <graphics type='vnc' autoport='yes'/>
    <panic model='isa'/>
  </devices>
</domain>)");
}

template <typename F>
void expectCode(F fn, ErrCode code, const std::string& part)
{
    try {
        fn();
        ADD_FAILURE() << "no error";
    } catch (const VirtError& e) {
        EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

} // namespace

TEST(DeviceXml, ParsesEachKind)
{
    EXPECT_TRUE(std::holds_alternative<DiskDef>(
        parseDeviceXML("<disk type='file'><source file='/x'/><target dev='vdb'/></disk>")));
    EXPECT_TRUE(std::holds_alternative<InterfaceDef>(parseDeviceXML("<interface type='user'/>")));
    auto serial = parseDeviceXML("<serial type='pty'><target port='1'/></serial>");
    ASSERT_TRUE(std::holds_alternative<ChardevDef>(serial));
    EXPECT_EQ(std::get<ChardevDef>(serial).kind, ChardevKind::Serial);
    EXPECT_EQ(std::get<ChardevDef>(serial).targetPort, 1u);
    auto channel = parseDeviceXML("<channel type='unix'><target type='virtio' name='a.b'/></channel>");
    EXPECT_EQ(std::get<ChardevDef>(channel).kind, ChardevKind::Channel);
    auto panic = parseDeviceXML("<panic model='isa'/>");
    ASSERT_TRUE(std::holds_alternative<RawDeviceDef>(panic));
    EXPECT_EQ(std::get<RawDeviceDef>(panic).name, "panic");
    EXPECT_TRUE(std::holds_alternative<MemballoonDef>(parseDeviceXML("<memballoon model='none'/>")));
}

TEST(DeviceXml, RejectsUnknownRootsAndBadXml)
{
    expectCode([] { parseDeviceXML("<frobnicator/>"); }, ErrCode::XmlError,
               "unknown device type 'frobnicator'");
    expectCode([] { parseDeviceXML("<emulator>/bin/x</emulator>"); }, ErrCode::XmlError,
               "unknown device type 'emulator'");
    expectCode([] { parseDeviceXML("<disk"); }, ErrCode::XmlError, "(device_definition):1:");
    expectCode([] { parseDeviceXML("<disk type='file'/>"); }, ErrCode::XmlError, "missing <target");
}

TEST(DeviceXml, FormatRoundTrips)
{
    const char* xml = "<interface type='bridge'>\n"
                      "  <mac address='52:54:00:aa:bb:cc'/>\n"
                      "  <source bridge='br0'/>\n"
                      "  <model type='virtio'/>\n"
                      "  <driver name='vhost'/>\n"
                      "</interface>\n";
    DeviceDef dev = parseDeviceXML(xml);
    EXPECT_EQ(formatDeviceXML(dev), xml);
    EXPECT_TRUE(parseDeviceXML(formatDeviceXML(dev)) == dev);

    // Found by fuzzing: text beside elements in <backend> cannot be written
    // back, so the elements win and a re-parse sees the same device.
    DeviceDef rng = parseDeviceXML("<rng model='virtio'><backend model='egd' type='tcp'>junk"
                                   "<source mode='connect' host='h' service='1'/></backend></rng>");
    EXPECT_EQ(std::get<RngDef>(rng).backendPath, "");
    EXPECT_TRUE(parseDeviceXML(formatDeviceXML(rng)) == rng);
}

TEST(DeviceOps, FindMatchesDisksByTargetIgnoringRuntimeInfo)
{
    DomainDef d = baseDomain();
    auto found = findDevice(d, parseDeviceXML("<disk type='file'><target dev='vda'/></disk>"));
    ASSERT_TRUE(found);
    EXPECT_EQ(std::get<DiskDef>(*found).path, "/img/a.qcow2");
    EXPECT_FALSE(findDevice(d, parseDeviceXML("<disk><target dev='vdz'/></disk>")));
    EXPECT_TRUE(findDevice(d, parseDeviceXML("<panic model='isa'/>")));
    EXPECT_FALSE(findDevice(d, parseDeviceXML("<panic model='hyperv'/>")));
    EXPECT_TRUE(findDevice(d, parseDeviceXML("<serial type='pty'><target port='0'/></serial>")));
    EXPECT_TRUE(findDevice(d, parseDeviceXML("<controller type='usb' index='0'/>")));
}

TEST(DeviceOps, AddRejectsDuplicatesAndFillsGaps)
{
    DomainDef d = baseDomain();
    expectCode([&] { addDevice(d, parseDeviceXML("<disk type='block'><target dev='vda'/></disk>")); },
               ErrCode::OperationInvalid, "target vda already exists");
    expectCode([&] {
        addDevice(d, parseDeviceXML("<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"));
    }, ErrCode::OperationInvalid, "52:54:00:00:00:01");

    addDevice(d, parseDeviceXML("<disk type='file'><source file='/b'/><target dev='vdb'/></disk>"));
    EXPECT_EQ(d.devices.disks.size(), 2u);
    addDevice(d, parseDeviceXML("<interface type='user'/>"));
    ASSERT_EQ(d.devices.interfaces.size(), 2u);
    EXPECT_TRUE(d.devices.interfaces[1].mac.starts_with("52:54:00:"));
    addDevice(d, parseDeviceXML("<controller type='usb' model='qemu-xhci'/>"));
    EXPECT_EQ(d.devices.controllers.back().index, 1u);
    addDevice(d, parseDeviceXML("<memballoon model='virtio'/>"));
    expectCode([&] { addDevice(d, parseDeviceXML("<memballoon model='virtio'/>")); },
               ErrCode::OperationInvalid, "memballoon");
    addDevice(d, parseDeviceXML("<watchdog model='i6300esb'/>"));

    // The result is still a valid document.
    DomainDef again = parseDomainXML(formatDomainXML(d));
    EXPECT_TRUE(again == d);
}

TEST(DeviceOps, RemoveAndReplace)
{
    DomainDef d = baseDomain();
    DeviceDef removed = removeDevice(d, parseDeviceXML("<disk><target dev='vda'/></disk>"));
    EXPECT_EQ(std::get<DiskDef>(removed).info.alias, "virtio-disk0");
    EXPECT_TRUE(d.devices.disks.empty());
    expectCode([&] { removeDevice(d, parseDeviceXML("<disk><target dev='vda'/></disk>")); },
               ErrCode::OperationFailed, "no target device vda");

    removeDevice(d, parseDeviceXML("<interface type='network'><mac address='52:54:00:00:00:01'/></interface>"));
    EXPECT_TRUE(d.devices.interfaces.empty());
    removeDevice(d, parseDeviceXML("<panic model='isa'/>"));
    EXPECT_TRUE(d.devices.others.empty());
    expectCode([&] { removeDevice(d, parseDeviceXML("<rng model='virtio'><backend model='random'/></rng>")); },
               ErrCode::OperationFailed, "not found");

    replaceDevice(d, parseDeviceXML("<graphics type='vnc' autoport='yes' passwd='new'/>"));
    EXPECT_EQ(d.devices.graphics[0].passwd, "new");
    expectCode([&] { replaceDevice(d, parseDeviceXML("<graphics type='spice'/>")); },
               ErrCode::OperationFailed, "not found");
}

// Found by fuzz_domain_xml: a second <backend> used to be half-merged into
// the first, so the formatted document parsed back differently.
TEST(DomainDevices, OnlyTheFirstBackendCounts)
{
    const std::string doc = "<domain type='kvm'><name>s</name><memory>1</memory><os><type>hvm</type></os><devices>"
                            "<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
                            "<backend model='egd' type='pty'><s/></backend></rng></devices></domain>";
    auto def = virtbus::xml::parseDomainXML(doc);
    ASSERT_EQ(def.devices.rngs.size(), 1u);
    EXPECT_EQ(def.devices.rngs[0].backendModel, "random");
    EXPECT_EQ(def.devices.rngs[0].backendPath, "/dev/urandom");
    auto text = virtbus::xml::formatDomainXML(def);
    EXPECT_EQ(virtbus::xml::parseDomainXML(text), def);
    EXPECT_EQ(virtbus::xml::formatDomainXML(virtbus::xml::parseDomainXML(text)), text);
}
