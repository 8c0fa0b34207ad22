// Live vCPU count changes (SetVcpus with AFFECT_LIVE): QEMU's CPU hotplug
// on pc and q35 guests started with maxcpus above the current count. New
// vCPUs are device_add'ed in the slot order query-hotpluggable-cpus gives;
// only those (ids vcpuN under /machine/peripheral) can go again, as in
// libvirt, where the vCPUs a guest boots with are not hotpluggable.
#include <algorithm>
#include <tuple>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;
using namespace std::chrono_literals;

namespace {

struct Slot {
    json::Value entry;
    std::tuple<int64_t, int64_t, int64_t, int64_t> key;
    bool present() const { return entry.find("qom-path") != nullptr; }
    std::string qomPath() const { return entry.str("qom-path"); }
};

std::vector<Slot> slots(qemu::Monitor& mon)
{
    std::vector<Slot> out;
    json::Value list = mon.execute("query-hotpluggable-cpus");
    for (const auto& e : list.asArray()) {
        const json::Value* p = e.find("props");
        if (!p)
            continue;
        out.push_back({e,
            {p->integer("socket-id", 0), p->integer("die-id", 0), p->integer("core-id", 0),
                p->integer("thread-id", 0)}});
    }
    std::sort(out.begin(), out.end(), [](const Slot& a, const Slot& b) { return a.key < b.key; });
    return out;
}

VirtError vcpuError(ErrCode code, const std::string& text) { return makeError(code, ErrDomain::Qemu, text); }

} // namespace

void QemuDriver::setLiveVcpus(const DomPtr& d, unsigned count)
{
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        mon = d->mon;
    }
    std::vector<Slot> all = slots(*mon);
    auto present = [&] {
        return static_cast<unsigned>(std::count_if(all.begin(), all.end(), [](const Slot& s) { return s.present(); }));
    };
    unsigned have = present();
    if (count > have) {
        for (size_t i = 0; i < all.size() && have < count; ++i) {
            if (all[i].present())
                continue;
            json::Object args {{"driver", all[i].entry.str("type")}, {"id", "vcpu" + std::to_string(i)}};
            for (const auto& [k, v] : all[i].entry.find("props")->asObject())
                args.emplace_back(k, v);
            try {
                mon->execute("device_add", args);
            } catch (const qemu::QmpError& e) {
                throw vcpuError(
                    ErrCode::OperationFailed, "failed to hotplug vcpu " + std::to_string(i) + ": " + e.desc);
            }
            ++have;
        }
    } else {
        for (size_t i = all.size(); i-- > 0 && have > count;) {
            if (!all[i].present())
                continue;
            std::string path = all[i].qomPath();
            if (!path.starts_with("/machine/peripheral/"))
                throw vcpuError(ErrCode::InvalidArg, "vcpu '" + std::to_string(i) + "' can't be hotunplugged");
            std::string id = path.substr(20);
            {
                std::lock_guard lock(mu_);
                if (!d->unplugAlias.empty())
                    throw vcpuError(
                        ErrCode::OperationFailed, "unplug of device '" + d->unplugAlias + "' is still in progress");
                d->unplugAlias = id;
                d->unplugResult = 0;
            }
            int result = 0;
            try {
                mon->execute("device_del", json::Object {{"id", id}});
                std::unique_lock lock(mu_);
                d->unplugCv.wait_for(lock, 5s, [&] { return d->unplugResult != 0 || !d->active(); });
                result = d->unplugResult;
                d->unplugAlias.clear();
            } catch (const qemu::QmpError& e) {
                std::lock_guard lock(mu_);
                d->unplugAlias.clear();
                throw vcpuError(ErrCode::OperationFailed, "failed to unplug vcpu " + std::to_string(i) + ": " + e.desc);
            }
            if (result == 2)
                throw vcpuError(ErrCode::OperationFailed, "unplug of device was rejected by the guest");
            if (result != 1)
                throw vcpuError(ErrCode::OperationFailed,
                    "vcpu unplug request timed out. Unplug result must be "
                    "manually inspected in the domain");
            --have;
        }
    }
    // The count QEMU has now, whatever happened on the way.
    all = slots(*mon);
    {
        std::lock_guard lock(mu_);
        if (d->live)
            d->live->vcpu.current = present();
    }
    writeStatus(*d);
}

} // namespace virtbus
