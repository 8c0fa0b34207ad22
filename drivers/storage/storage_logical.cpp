#include "storage/storage_logical.h"

#include "command.h"
#include "storage/storage_file.h"

#include <sys/stat.h>

#include <map>
#include <sstream>

namespace virtbus::storage {

namespace {

std::string vgName(const xml::StoragePoolDef& def) { return def.source.name.empty() ? def.name : def.source.name; }

// LVM tools' report rows, fields split on '#'.
std::vector<std::vector<std::string>> report(const std::vector<std::string>& argv)
{
    CommandResult r = runChecked(argv, ErrDomain::Storage);
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        size_t b = line.find_first_not_of(' ');
        if (b == std::string::npos)
            continue;
        std::vector<std::string> row;
        std::string field;
        std::istringstream f(line.substr(b));
        while (std::getline(f, field, '#'))
            row.push_back(field);
        rows.push_back(std::move(row));
    }
    return rows;
}

uint64_t number(const std::string& s)
{
    try {
        return std::stoull(s);
    } catch (const std::exception&) {
        return 0;
    }
}

} // namespace

void LogicalBackend::check(const xml::StoragePoolDef& def) const
{
    std::string vg = vgName(def);
    if (vg.find('/') != std::string::npos || vg == "." || vg == "..")
        throw storageErr(ErrCode::InvalidArg, "volume group name '" + vg + "' is not valid");
}

bool LogicalBackend::stillActive(const xml::StoragePoolDef& def) const
{
    return runCommand({"vgs", "--noheadings", "-o", "vg_name", vgName(def)}).status == 0;
}

void LogicalBackend::build(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, flags::BuildOverwrite | flags::BuildNoOverwrite, "virStorageBackendLogicalBuildPool");
    if (def.source.devices.empty())
        throw storageErr(ErrCode::InvalidArg, "missing source device");
    std::vector<std::string> vgcreate {"vgcreate", vgName(def)};
    for (const auto& d : def.source.devices) {
        if (!(flags & flags::BuildOverwrite)) {
            std::string t = runCommand({"blkid", "-p", "-o", "value", "-s", "TYPE", d.path}).out;
            if (!t.empty() && t != "\n")
                throw storageErr(
                    ErrCode::OperationFailed, "Storage pool already built: device '" + d.path + "' is in use");
        }
        std::vector<std::string> pv {"pvcreate"};
        if (flags & flags::BuildOverwrite)
            pv.insert(pv.end(), {"-ff", "-y"});
        pv.push_back(d.path);
        runChecked(pv, ErrDomain::Storage);
        vgcreate.push_back(d.path);
    }
    runChecked(vgcreate, ErrDomain::Storage);
}

void LogicalBackend::start(const xml::StoragePoolDef& def)
{
    if (!stillActive(def))
        throw storageErr(ErrCode::OperationInvalid, "volume group '" + vgName(def) + "' does not exist");
    runChecked({"vgchange", "-aay", vgName(def)}, ErrDomain::Storage);
}

void LogicalBackend::stop(const xml::StoragePoolDef& def)
{
    runChecked({"vgchange", "-aln", vgName(def)}, ErrDomain::Storage);
}

void LogicalBackend::remove(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendLogicalDeletePool");
    runChecked({"vgremove", "-f", vgName(def)}, ErrDomain::Storage);
    for (const auto& d : def.source.devices)
        runChecked({"pvremove", "-y", d.path}, ErrDomain::Storage);
}

PoolSpace LogicalBackend::refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols)
{
    std::string vg = vgName(def);
    for (const auto& row : report({"lvs", "--separator", "#", "--noheadings", "--units", "b", "--nosuffix", "--options",
             "lv_name,lv_size,lv_attr", vg})) {
        if (row.size() < 2 || row[0].empty())
            continue;
        xml::StorageVolDef v;
        v.name = row[0];
        v.targetPath = v.key = volPath(def, v.name);
        v.type = "block";
        v.format = "none";
        v.capacity = v.physical = number(row[1]);
        v.allocation = v.capacity;
        vols.push_back(std::move(v));
    }
    PoolSpace s;
    auto rows = report(
        {"vgs", "--separator", "#", "--noheadings", "--units", "b", "--nosuffix", "--options", "vg_size,vg_free", vg});
    if (!rows.empty() && rows[0].size() >= 2) {
        s.capacity = number(rows[0][0]);
        s.available = number(rows[0][1]);
        s.allocation = s.capacity - std::min(s.available, s.capacity);
    }
    return s;
}

std::string LogicalBackend::findSources(const std::string&, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendLogicalFindPoolSources");
    std::map<std::string, xml::StoragePoolSourceDef> groups;
    for (const auto& row : report({"pvs", "--separator", "#", "--noheadings", "--options", "pv_name,vg_name"})) {
        if (row.size() < 2 || row[1].empty())
            continue;
        auto& g = groups[row[1]];
        g.name = row[1];
        g.format = "lvm2";
        g.devices.push_back({row[0], "", {}});
    }
    std::vector<xml::StoragePoolSourceDef> found;
    for (auto& [name, g] : groups)
        found.push_back(std::move(g));
    return xml::formatStoragePoolSourcesXML("logical", found);
}

std::string LogicalBackend::volPath(const xml::StoragePoolDef& def, const std::string& name) const
{
    return "/dev/" + vgName(def) + "/" + name;
}

void LogicalBackend::createVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendLogicalCreateVol");
    if (vol.backingStore)
        throw storageErr(ErrCode::ConfigUnsupported, "backing storage is not supported for logical volumes");
    runChecked(
        {"lvcreate", "--name", vol.name, "--size", std::to_string((vol.capacity + 511) / 512 * 512) + "b", vgName(def)},
        ErrDomain::Storage);
}

void LogicalBackend::deleteVol(const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendLogicalDeleteVol");
    runChecked({"lvremove", "-f", vgName(def) + "/" + vol.name}, ErrDomain::Storage);
}

void LogicalBackend::resizeVol(
    const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendLogicalResizeVol");
    std::vector<std::string> argv {"lvresize", "--size", std::to_string((capacity + 511) / 512 * 512) + "b"};
    if (capacity < vol.capacity)
        argv.push_back("--force");
    argv.push_back(vgName(def) + "/" + vol.name);
    runChecked(argv, ErrDomain::Storage);
}

void LogicalBackend::refreshVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol)
{
    auto rows = report({"lvs", "--separator", "#", "--noheadings", "--units", "b", "--nosuffix", "--options", "lv_size",
        vgName(def) + "/" + vol.name});
    if (rows.empty() || rows[0].empty())
        throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching name '" + vol.name + "'");
    vol.type = "block";
    vol.format = "none";
    vol.capacity = vol.physical = number(rows[0][0]);
    vol.allocation = vol.capacity;
}

} // namespace virtbus::storage
