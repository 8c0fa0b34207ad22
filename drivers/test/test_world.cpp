// The fixed part of test:///default: the initial domain, the fake host's
// capabilities and sysinfo, and the CPU model knowledge behind
// GetCPUModelNames and BaselineCPU. Texts are libvirt 9.0's, byte for byte
// where clients might compare them.
#include "test/test_internal.h"

#include "xml/xml_util.h"

#include <algorithm>
#include <set>

namespace virtbus {

using namespace testdrv;

namespace {

// testOpenDefault's domain, as libvirt formats it after parsing.
constexpr std::string_view kDefaultDomain = R"(<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
</domain>
)";

constexpr std::string_view kSysinfo = R"(<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
)";

// libvirt 9.0's cpu_map, in its order (which is also oldest-first within a
// vendor, what BaselineCPU relies on).
const std::vector<std::string> kX86Models = {
    "486", "pentium", "pentium2", "pentium3", "pentiumpro", "coreduo", "n270", "core2duo", "qemu32", "kvm32",
    "cpu64-rhel5", "cpu64-rhel6", "qemu64", "kvm64", "Conroe", "Penryn", "Nehalem", "Nehalem-IBRS", "Westmere",
    "Westmere-IBRS", "SandyBridge", "SandyBridge-IBRS", "IvyBridge", "IvyBridge-IBRS", "Haswell-noTSX",
    "Haswell-noTSX-IBRS", "Haswell", "Haswell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS", "Broadwell",
    "Broadwell-IBRS", "Skylake-Client", "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Server",
    "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Cascadelake-Server", "Cascadelake-Server-noTSX",
    "Icelake-Client", "Icelake-Client-noTSX", "Icelake-Server", "Icelake-Server-noTSX", "Cooperlake",
    "Snowridge", "athlon", "phenom", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5",
    "EPYC", "EPYC-IBPB", "EPYC-Rome", "EPYC-Milan", "Dhyana"};
const std::vector<std::string> kPpc64Models = {"POWER6", "POWER7", "POWER8", "POWER9", "POWER10",
                                               "POWERPC_e5500", "POWERPC_e6500"};

// virArch names libvirt knows.
const std::set<std::string_view> kArchNames = {
    "none", "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686", "ia64", "lm32", "loongarch64",
    "m68k", "microblaze", "microblazeel", "mips", "mipsel", "mips64", "mips64el", "openrisc", "parisc",
    "parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb", "riscv32", "riscv64", "s390", "s390x", "sh4",
    "sh4eb", "sparc", "sparc64", "unicore32", "x86_64", "xtensa", "xtensaeb"};

bool isX86(std::string_view arch)
{
    return arch == "i686" || arch == "x86_64";
}

// virCapabilitiesFormatXML's layout for testBuildCapabilities: two NUMA
// cells of 8 CPUs, four page sizes, hvm and xen guests on i686.
std::string capabilitiesXML()
{
    std::string x = "<capabilities>\n\n  <host>\n    <cpu>\n      <arch>i686</arch>\n      <features>\n"
                    "        <pae/>\n        <nonpae/>\n      </features>\n";
    for (const char* size : {"4", "8", "2048", "1048576"})
        x += std::string("      <pages unit='KiB' size='") + size + "'/>\n";
    x += "    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n    <topology>\n"
         "      <cells num='2'>\n";
    for (unsigned cell = 0; cell < 2; ++cell) {
        uint64_t mem = (cell + 1) * 2048ULL * 1024;
        uint64_t page = cell == 1 ? 8 : 4;
        x += "        <cell id='" + std::to_string(cell) + "'>\n";
        x += "          <memory unit='KiB'>" + std::to_string(mem) + "</memory>\n";
        x += "          <pages unit='KiB' size='" + std::to_string(page) + "'>" + std::to_string(mem / page) +
             "</pages>\n";
        x += "          <pages unit='KiB' size='2048'>0</pages>\n";
        x += "          <pages unit='KiB' size='1048576'>0</pages>\n";
        x += "          <cpus num='8'>\n";
        for (unsigned i = 0; i < 8; ++i) {
            std::string id = std::to_string(cell * 8 + i);
            x += "            <cpu id='" + id + "' socket_id='" + std::to_string(cell) + "' die_id='0' core_id='" +
                 std::to_string(i) + "' siblings='" + id + "'/>\n";
        }
        x += "          </cpus>\n        </cell>\n";
    }
    x += "      </cells>\n    </topology>\n    <secmodel>\n      <model>testSecurity</model>\n"
         "      <doi></doi>\n    </secmodel>\n  </host>\n\n";
    for (const char* osType : {"hvm", "xen"}) {
        x += std::string("  <guest>\n    <os_type>") + osType + "</os_type>\n    <arch name='i686'>\n"
             "      <wordsize>32</wordsize>\n      <emulator>/usr/bin/test-hv</emulator>\n"
             "      <domain type='test'/>\n    </arch>\n    <features>\n      <pae/>\n      <nonpae/>\n"
             "    </features>\n  </guest>\n\n";
    }
    x += "</capabilities>\n";
    return x;
}

struct CpuSpec {
    std::string arch, model, vendor;
    std::set<std::string> features;
};

CpuSpec parseHostCpu(const std::string& text)
{
    xml::XmlDoc doc = xml::parseDocument(text, "(CPU_definition)");
    const xmlNode* root = xml::rootElement(doc, "cpu");
    if (xml::attr(root, "mode"))
        throw err::configUnsupported("Attribute mode is only allowed for guest CPU");
    CpuSpec cpu;
    for (const xmlNode* c : xml::elementChildren(root)) {
        std::string name = xml::elemName(c);
        if (name == "arch")
            cpu.arch = xml::textOf(c);
        else if (name == "model")
            cpu.model = xml::textOf(c);
        else if (name == "vendor")
            cpu.vendor = xml::textOf(c);
        else if (name == "feature")
            cpu.features.insert(xml::attrOr(c, "name"));
    }
    if (cpu.arch.empty())
        throw err::xml("Missing CPU architecture");
    return cpu;
}

} // namespace

void TestDriver::buildWorld()
{
    xml::DomainDef def = xml::parseDomainXML(kDefaultDomain, xml::PARSE_INACTIVE);
    postParse(def);
    Events none; // the world exists before anyone can listen
    TestDomain& d = *addDomain(std::move(def), false, none).dom;
    d.persistent = true;
    startDomain(d, kRunningBooted);
    // testParseDomains overrides the reason with the runstate's 0.
    d.reason = kRunningUnknown;
}

std::string TestDriver::capabilities()
{
    return capabilitiesXML();
}

std::string TestDriver::sysinfo(uint32_t flags)
{
    checkFlags(flags, 0, "testConnectGetSysinfo");
    return std::string(kSysinfo);
}

std::vector<std::string> TestDriver::cpuModelNames(const std::string& arch, uint32_t flags)
{
    checkFlags(flags, 0, "testConnectGetCPUModelNames");
    if (!kArchNames.contains(arch) || arch == "none")
        throw err::invalidArg("cannot find architecture " + arch.substr(0, kMaxNameLength));
    if (isX86(arch))
        return kX86Models;
    if (arch == "ppc64" || arch == "ppc64le")
        return kPpc64Models;
    return {};
}

std::string TestDriver::baselineCPU(const std::vector<std::string>& xmlCPUs, uint32_t flags)
{
    // VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES is accepted; without
    // libvirt's per-model feature tables only the named features are listed.
    checkFlags(flags, 1, "testConnectBaselineCPU");
    if (xmlCPUs.empty())
        throw err::invalidArg("no CPUs given");
    std::vector<CpuSpec> cpus;
    for (const auto& text : xmlCPUs)
        cpus.push_back(parseHostCpu(text));

    const CpuSpec& first = cpus.front();
    std::string vendor = first.vendor;
    std::set<std::string> features = first.features;
    bool sameModel = true;
    for (const auto& c : cpus) {
        if (!c.vendor.empty() && !vendor.empty() && c.vendor != vendor)
            throw err::operationFailed("CPU vendors do not match");
        if (vendor.empty())
            vendor = c.vendor;
        sameModel = sameModel && c.model == first.model;
        std::set<std::string> common;
        std::set_intersection(features.begin(), features.end(), c.features.begin(), c.features.end(),
                              std::inserter(common, common.begin()));
        features = std::move(common);
    }

    std::string model = first.model;
    if (isX86(first.arch)) {
        size_t oldest = kX86Models.size();
        for (const auto& c : cpus) {
            if (c.model.empty())
                continue;
            auto it = std::find(kX86Models.begin(), kX86Models.end(), c.model);
            if (it == kX86Models.end())
                throw err::internal("Unknown CPU model " + c.model);
            oldest = std::min(oldest, static_cast<size_t>(it - kX86Models.begin()));
        }
        if (oldest < kX86Models.size())
            model = kX86Models[oldest];
    } else if (!sameModel) {
        throw err::operationFailed("CPUs are incompatible");
    }

    xml::XmlWriter w;
    w.open("cpu").attr("mode", "custom").attr("match", "exact");
    if (!model.empty())
        w.open("model").attr("fallback", sameModel ? "forbid" : "allow").text(model).close();
    w.leafIf("vendor", vendor);
    for (const auto& f : features)
        w.open("feature").attr("policy", "require").attr("name", f).close();
    w.close();
    return w.take();
}

} // namespace virtbus
