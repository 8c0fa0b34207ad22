#include "adaptors.h"
#include "connection.h"

namespace virtbus {


void ConnectAdaptor::BaselineCPU(bus::Reply<std::string>& r, std::vector<std::string> xmlCPUs, uint32_t flags)
{
    r.ok(c_.driver().baselineCPU(xmlCPUs, flags));
}

void ConnectAdaptor::CompareCPU(bus::Reply<int32_t>& r, std::string xml, uint32_t flags)
{
    r.ok(c_.driver().compareCPU(xml, flags));
}

void ConnectAdaptor::DomainCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.domainPath(c_.driver().domainCreateXML(xml, flags).uuid)});
}

void ConnectAdaptor::DomainDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml)
{
    r.ok({c_.domainPath(c_.driver().domainDefineXML(xml, 0).uuid)});
}

void ConnectAdaptor::DomainCreateXMLWithFiles(bus::Reply<bus::ObjectPath>& r, std::string xml,
                                              std::vector<bus::UnixFd> files, uint32_t flags)
{
    std::vector<int> fds;
    for (const auto& f : files)
        fds.push_back(f.fd);
    r.ok({c_.domainPath(c_.driver().domainCreateXMLWithFiles(xml, fds, flags).uuid)});
}

void ConnectAdaptor::DomainLookupByID(bus::Reply<bus::ObjectPath>& r, int32_t id)
{
    r.ok({c_.domainPath(c_.driver().domainLookupByID(id).uuid)});
}

void ConnectAdaptor::DomainLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.domainPath(c_.driver().domainLookupByName(name).uuid)});
}

void ConnectAdaptor::DomainLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid)
{
    r.ok({c_.domainPath(c_.driver().domainLookupByUUID(uuid).uuid)});
}

void ConnectAdaptor::DomainRestore(bus::Reply<>& r, std::string from, std::string xml, uint32_t flags)
{
    c_.driver().domainRestore(from, xml, flags);
    r.ok();
}

void ConnectAdaptor::DomainSaveImageDefineXML(bus::Reply<>& r, std::string file, std::string xml, uint32_t flags)
{
    c_.driver().domainSaveImageDefineXML(file, xml, flags);
    r.ok();
}

void ConnectAdaptor::DomainSaveImageGetXMLDesc(bus::Reply<std::string>& r, std::string file, uint32_t flags)
{
    r.ok(c_.driver().domainSaveImageGetXMLDesc(file, flags));
}

void ConnectAdaptor::GetAllDomainStats(bus::Reply<std::vector<std::tuple<std::string, TypedParams>>>& r,
                                       uint32_t stats, uint32_t flags)
{
    std::vector<std::tuple<std::string, TypedParams>> out;
    for (auto& [dom, params] : c_.driver().allDomainStats(stats, flags))
        out.emplace_back(dom.name, std::move(params));
    r.ok(out);
}

void ConnectAdaptor::GetCapabilities(bus::Reply<std::string>& r) { r.ok(c_.driver().capabilities()); }

void ConnectAdaptor::GetCPUModelNames(bus::Reply<std::vector<std::string>>& r, std::string arch, uint32_t flags)
{
    r.ok(c_.driver().cpuModelNames(arch, flags));
}

void ConnectAdaptor::GetDomainCapabilities(bus::Reply<std::string>& r, std::string emulatorbin, std::string arch,
                                           std::string machine, std::string virttype, uint32_t flags)
{
    r.ok(c_.driver().domainCapabilities(emulatorbin, arch, machine, virttype, flags));
}

void ConnectAdaptor::GetSysinfo(bus::Reply<std::string>& r, uint32_t flags) { r.ok(c_.driver().sysinfo(flags)); }

void ConnectAdaptor::ListDomains(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    auto domains = c_.driver().listDomains(flags);
    std::vector<bus::ObjectPath> out;
    out.reserve(domains.size());
    for (const auto& d : domains)
        out.push_back({c_.domainPath(d.uuid)});
    r.ok(out);
}

void ConnectAdaptor::NodeGetCPUMap(bus::Reply<std::vector<bool>>& r, uint32_t flags)
{
    r.ok(c_.driver().nodeCPUMap(flags));
}

void ConnectAdaptor::NodeGetCPUStats(bus::Reply<bus::Dict<std::string, uint64_t>>& r, int32_t cpuNum, uint32_t flags)
{
    r.ok(c_.driver().nodeCPUStats(cpuNum, flags));
}

void ConnectAdaptor::NodeGetFreeMemory(bus::Reply<uint64_t>& r) { r.ok(c_.driver().nodeFreeMemory()); }

void ConnectAdaptor::NodeGetMemoryParameters(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().nodeMemoryParameters(flags));
}

void ConnectAdaptor::NodeGetMemoryStats(bus::Reply<bus::Dict<std::string, uint64_t>>& r, int32_t cellNum,
                                        uint32_t flags)
{
    r.ok(c_.driver().nodeMemoryStats(cellNum, flags));
}

void ConnectAdaptor::NodeGetSecurityModel(bus::Reply<std::tuple<std::string, std::string>>& r)
{
    r.ok(c_.driver().nodeSecurityModel());
}

void ConnectAdaptor::NodeSetMemoryParameters(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().nodeSetMemoryParameters(params, flags);
    r.ok();
}

bool ConnectAdaptor::getEncrypted(const char*) { return c_.driver().encrypted(); }
std::string ConnectAdaptor::getHostname(const char*) { return c_.driver().hostname(); }
uint64_t ConnectAdaptor::getLibVersion(const char*) { return c_.driver().libVersion(); }
bool ConnectAdaptor::getSecure(const char*) { return c_.driver().secure(); }
uint64_t ConnectAdaptor::getVersion(const char*) { return c_.driver().version(); }

} // namespace virtbus
