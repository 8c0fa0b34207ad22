// Starting and stopping a network on the host, and keeping its dnsmasq
// alive. Each start undoes what it made when a later step fails, so a
// refused start leaves no bridge, table or process behind.
#include "network/network_config.h"
#include "network/network_driver.h"
#include "network/network_host.h"
#include "network/network_net.h"

#include "fileutil.h"
#include "xml/domain_xml.h"

#include <algorithm>
#include <unistd.h>

namespace virtbus {

using namespace netdrv;

namespace {

std::string tableName(const std::string& uuid)
{
    std::string t = "virtbus_";
    for (char c : uuid)
        if (c != '-')
            t += c;
    return t;
}

bool forwards(const xml::NetworkDef& def)
{
    const std::string& m = def.forward.mode;
    return m == "nat" || m == "route" || m == "open";
}

} // namespace

BridgeNetworkDriver::Runtime BridgeNetworkDriver::startHost(xml::NetworkDef& live)
{
    Runtime rt;
    if (live.forward.mode == "bridge") {
        // An existing host bridge: nothing is created, it must be there.
        if (!net::linkExists(live.bridge.name))
            throw systemError(ErrDomain::Network, "Cannot get interface MTU on '" + live.bridge.name + "'", ENODEV);
        return rt;
    }
    net::checkHostNames(live);
    net::checkRouteCollision(live);
    net::createBridge(live);
    rt.bridgeCreated = true;
    try {
        if (net::needsFirewall(live)) {
            rt.table = tableName(live.uuid);
            net::nftDeleteTable(rt.table); // a stale one of a crashed host
            net::nftApply(net::nftRuleset(live, rt.table));
        }
        if (forwards(live))
            net::enableForwarding(
                std::any_of(live.ips.begin(), live.ips.end(), [](const auto& ip) { return ip.isIPv6(); }));
        if (net::needsDnsmasq(live))
            restartDnsmasq(live, rt);
    } catch (...) {
        stopHost(live, rt);
        throw;
    }
    return rt;
}

void BridgeNetworkDriver::restartDnsmasq(const xml::NetworkDef& live, Runtime& rt)
{
    std::string conf = statePath(live.name, ".conf");
    std::string pidFile = statePath(live.name, ".pid");
    if (rt.dnsmasqPid)
        net::stopDnsmasq(rt.dnsmasqPid, conf);
    rt.dnsmasqPid = 0;
    makeDirs(cfg_.stateDir, 0755, ErrDomain::Network);
    // dnsmasq reads its configuration before it drops privileges; the lease
    // file stays open across that, so leases survive a restart.
    writeFileAtomic(conf, net::dnsmasqConfig(live, {pidFile, statePath(live.name, ".leases")}),
        "saving dnsmasq configuration of network '" + live.name + "'", ErrDomain::Network, 0600);
    rt.dnsmasqPid = net::startDnsmasq(conf, pidFile);
}

void BridgeNetworkDriver::stopHost(const xml::NetworkDef& live, const Runtime& rt)
{
    if (rt.dnsmasqPid)
        net::stopDnsmasq(rt.dnsmasqPid, statePath(live.name, ".conf"));
    if (!rt.table.empty())
        net::nftDeleteTable(rt.table);
    if (rt.bridgeCreated)
        net::deleteBridge(live.bridge.name);
}

// Restarts a dnsmasq that died (killed, crashed) while its network runs.
void BridgeNetworkDriver::supervise()
{
    std::unique_lock wait(superviseMu_);
    while (!stopping_) {
        superviseCv_.wait_for(wait, std::chrono::seconds(cfg_.superviseSeconds));
        if (stopping_)
            break;
        wait.unlock();
        {
            std::unique_lock ops(opsMu_, std::try_to_lock);
            if (ops.owns_lock()) {
                std::vector<std::pair<std::string, Runtime>> dead;
                std::vector<xml::NetworkDef> defs;
                {
                    std::lock_guard lock(mu_);
                    for (const auto& [u, n] : byUuid_)
                        if (n->active && n->rt.dnsmasqPid
                            && !net::dnsmasqAlive(n->rt.dnsmasqPid, statePath(n->name(), ".conf"))) {
                            dead.emplace_back(u, n->rt);
                            defs.push_back(n->def);
                        }
                }
                for (size_t i = 0; i < dead.size(); ++i) {
                    Runtime rt = dead[i].second;
                    rt.dnsmasqPid = 0;
                    try {
                        restartDnsmasq(defs[i], rt);
                    } catch (const std::exception&) {
                        continue; // tried again at the next round
                    }
                    {
                        std::lock_guard lock(mu_);
                        if (auto it = byUuid_.find(dead[i].first); it != byUuid_.end() && it->second->active)
                            it->second->rt.dnsmasqPid = rt.dnsmasqPid;
                    }
                    saveStatus(defs[i], rt);
                }
            }
        }
        wait.lock();
    }
}

} // namespace virtbus
