// Domain definition -> QEMU argv: the machine-wide options, in the order
// libvirt 9 emits them for QEMU 7.2 (qemuBuildCommandLine); the devices
// come from qemu_command_devices.cpp.
#include "qemu/qemu_command.h"

#include "qemu/qemu_caps.h"
#include "qemu/qemu_command_priv.h"

#include <algorithm>

namespace virtbus::qemu {

using namespace detail;

namespace {

// <smm state='on'/>, <vmport state='off'/>: "" when absent, "on" for a
// bare element.
std::string featureState(const xml::DomainDef& def, std::string_view name)
{
    for (const auto& f : def.features)
        if (f.name == name)
            return f.raw.empty() ? "on" : rawAttr(f.raw, "state");
    return {};
}

const xml::TimerDef* timer(const xml::DomainDef& def, std::string_view name)
{
    for (const auto& t : def.clock.timers)
        if (t.name == name)
            return &t;
    return nullptr;
}

void machineArgs(Argv& argv, const xml::DomainDef& def, const MachineInfo& m)
{
    Opts o(m.name);
    o.add("usb", "off"); // controllers are explicit -device entries
    if (std::string s = featureState(def, "vmport"); !s.empty())
        o.add("vmport", s);
    if (std::string s = featureState(def, "smm"); !s.empty())
        o.add("smm", s);
    o.add("dump-guest-core", def.memoryDumpCore == "on" ? "on" : "off");
    if (const xml::TimerDef* t = timer(def, "hpet"); t && t->present == "no")
        o.add("hpet", "off");
    o.add("acpi", def.hasFeature("acpi") ? "on" : "off");
    argv.insert(argv.end(), {"-machine", o.str(), "-accel", def.type == "kvm" ? "kvm" : "tcg"});
}

void cpuArgs(Argv& argv, const xml::DomainDef& def)
{
    const auto& cpu = def.cpu;
    if (!cpu.present)
        return;
    std::string model;
    if (cpu.mode == "host-passthrough")
        model = "host,migratable=on";
    else if (cpu.mode == "host-model")
        // libvirt expands host-model from the host's CPU; under KVM the
        // closest QEMU spelling is host, under TCG the richest model.
        model = def.type == "kvm" ? "host,migratable=on" : "max";
    else if (cpu.mode == "maximum")
        model = "max";
    else
        model = cpu.model;
    if (model.empty())
        return;
    for (const auto& x : cpu.extra.children) {
        if (rawElementName(x) != "feature")
            continue;
        std::string policy = rawAttr(x, "policy");
        bool off = policy == "disable" || policy == "forbid";
        model += "," + rawAttr(x, "name") + (off ? "=off" : "=on");
    }
    argv.insert(argv.end(), {"-cpu", model});
}

void memoryAndCpuCountArgs(Argv& argv, const xml::DomainDef& def)
{
    std::string mem = "size=" + std::to_string(def.memory) + "k";
    if (def.maxMemory)
        mem += ",slots=" + std::to_string(def.maxMemory->slots) + ",maxmem=" +
               std::to_string(def.maxMemory->kib) + "k";
    argv.insert(argv.end(), {"-m", mem, "-overcommit", "mem-lock=off"});

    std::string smp = std::to_string(def.vcpu.current);
    if (def.vcpu.current != def.vcpu.max)
        smp += ",maxcpus=" + std::to_string(def.vcpu.max);
    if (def.cpu.topology) {
        const auto& t = *def.cpu.topology;
        smp += ",sockets=" + std::to_string(t.sockets) + ",dies=" + std::to_string(std::max(t.dies, 1u)) +
               ",cores=" + std::to_string(t.cores) + ",threads=" + std::to_string(t.threads);
    } else {
        smp += ",sockets=" + std::to_string(def.vcpu.max) + ",cores=1,threads=1";
    }
    argv.insert(argv.end(), {"-smp", smp});
    for (unsigned i = 1; i <= def.iothreads; ++i)
        argv.insert(argv.end(), {"-object", "iothread,id=iothread" + std::to_string(i)});
}

void clockAndPowerArgs(Argv& argv, const xml::DomainDef& def, bool q35)
{
    std::string rtc = "base=" + def.clock.offset;
    if (const xml::TimerDef* t = timer(def, "rtc")) {
        if (t->track == "guest")
            rtc += ",clock=vm";
        else if (t->track == "wall")
            rtc += ",clock=host";
        else if (t->track == "realtime")
            rtc += ",clock=rt";
        if (t->tickpolicy == "catchup")
            rtc += ",driftfix=slew";
    }
    argv.insert(argv.end(), {"-rtc", rtc});
    // The in-kernel PIT exists under KVM only.
    if (const xml::TimerDef* t = timer(def, "pit"); t && !t->tickpolicy.empty() && def.type == "kvm")
        argv.insert(argv.end(), {"-global", "kvm-pit.lost_tick_policy=" + t->tickpolicy});

    // SHUTDOWN always reaches the driver, which applies on_poweroff;
    // a guest reboot becomes a shutdown when on_reboot says destroy.
    argv.push_back("-no-shutdown");
    if (def.onReboot == "destroy")
        argv.insert(argv.end(), {"-action", "reboot=shutdown"});
    const char* pm = q35 ? "ICH9-LPC" : "PIIX4_PM";
    if (def.pm.suspendToMem)
        argv.insert(argv.end(), {"-global", std::string(pm) + ".disable_s3=" + (*def.pm.suspendToMem ? "0" : "1")});
    if (def.pm.suspendToDisk)
        argv.insert(argv.end(), {"-global", std::string(pm) + ".disable_s4=" + (*def.pm.suspendToDisk ? "0" : "1")});
}

// libvirt turns <os><boot dev=.../> into bootindex properties: the first
// disk, cdrom, floppy or interface for each entry, in order.
BootIndexes bootIndexes(const xml::DomainDef& def)
{
    BootIndexes out;
    const auto& dev = def.devices;
    auto perDevice = [&](const auto& list) {
        for (const auto& d : list)
            if (d.info.bootOrder)
                out[&d.info] = *d.info.bootOrder;
    };
    perDevice(dev.disks);
    perDevice(dev.interfaces);
    perDevice(dev.hostdevs);
    if (!out.empty())
        return out;
    std::vector<std::string> order = def.os.bootDevs;
    if (order.empty()) // libvirt's parser adds <boot dev='hd'/>
        order.push_back("hd");
    unsigned next = 1;
    for (const auto& b : order) {
        const xml::DeviceInfo* info = nullptr;
        if (b == "network") {
            if (!dev.interfaces.empty())
                info = &dev.interfaces.front().info;
        } else {
            const char* want = b == "hd" ? "disk" : b == "cdrom" ? "cdrom" : "floppy";
            for (const auto& d : dev.disks)
                if (!info && d.device == want)
                    info = &d.info;
        }
        if (info && !out.count(info))
            out[info] = next++;
    }
    return out;
}

void bootArgs(Argv& argv, const xml::DomainDef& def)
{
    std::string boot;
    if (def.os.bootmenu)
        boot += *def.os.bootmenu ? "menu=on," : "menu=off,";
    if (def.os.bootmenuTimeout)
        boot += "splash-time=" + std::to_string(*def.os.bootmenuTimeout) + ",";
    argv.insert(argv.end(), {"-boot", boot + "strict=on"});
    if (!def.os.kernel.empty())
        argv.insert(argv.end(), {"-kernel", def.os.kernel});
    if (!def.os.initrd.empty())
        argv.insert(argv.end(), {"-initrd", def.os.initrd});
    if (!def.os.cmdline.empty())
        argv.insert(argv.end(), {"-append", def.os.cmdline});
    if (!def.os.dtb.empty())
        argv.insert(argv.end(), {"-dtb", def.os.dtb});
}

} // namespace

std::vector<std::string> buildCommandLine(const xml::DomainDef& def, const CommandContext& ctx)
{
    const MachineInfo m = machineOf(def, ctx.caps);
    const bool q35 = m.chipset == Chipset::Q35;
    Argv argv{ctx.emulator.empty() ? emulatorPath(def, ctx.caps) : ctx.emulator};

    argv.insert(argv.end(), {"-name", "guest=" + escapeOpt(def.name) + ",debug-threads=on", "-S"});
    machineArgs(argv, def, m);
    cpuArgs(argv, def);
    if (def.os.loader && !def.os.loader->path.empty())
        argv.insert(argv.end(), {"-bios", def.os.loader->path});
    memoryAndCpuCountArgs(argv, def);
    argv.insert(argv.end(), {"-uuid", def.uuid});
    if (def.devices.graphics.empty())
        argv.insert(argv.end(), {"-display", "none"});
    argv.insert(argv.end(), {"-no-user-config", "-nodefaults"});
    if (ctx.qmpFd >= 0 || !ctx.qmpSocket.empty()) {
        Opts mon("socket");
        mon.add("id", "charmonitor");
        if (ctx.qmpFd >= 0)
            mon.add("fd", static_cast<unsigned>(ctx.qmpFd));
        else
            mon.add("path", ctx.qmpSocket);
        argv.insert(argv.end(),
            {"-chardev", mon.str() + ",server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control"});
    }
    if (!ctx.pidFile.empty())
        argv.insert(argv.end(), {"-pidfile", ctx.pidFile});
    clockAndPowerArgs(argv, def, q35);
    bootArgs(argv, def);
    appendDeviceArgs(argv, def, ctx, bootIndexes(def), q35);
    // QEMU never needs to gain privileges, run programs or change its own
    // scheduling: all of that is virtbusd's. Without seccomp in the binary
    // -sandbox is an error, hence the probe.
    if (!ctx.caps || ctx.caps->seccomp)
        argv.insert(
            argv.end(), {"-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"});
    argv.insert(argv.end(), {"-msg", "timestamp=on"});
    return argv;
}

} // namespace virtbus::qemu
