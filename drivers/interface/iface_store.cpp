#include "interface/iface_store.h"

#include "fileutil.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace virtbus {

namespace {
constexpr const char* kCheckpoint = ".checkpoint";
// Written last into the checkpoint, so a half-written one is ignored.
constexpr const char* kComplete = "complete";

bool hasSuffix(const std::string& s, const std::string& suffix)
{
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

InterfaceStore::InterfaceStore(std::string dir) : dir_(std::move(dir)), checkpointDir_(dir_ + "/" + kCheckpoint)
{
    makeDirs(dir_, 0700, ErrDomain::Interface);
    defs_ = loadDir(dir_);
    if (access((checkpointDir_ + "/" + kComplete).c_str(), F_OK) == 0)
        checkpoint_ = loadDir(checkpointDir_);
    else
        removeCheckpoint(); // a begin that never finished
}

InterfaceStore::Defs InterfaceStore::loadDir(const std::string& dir)
{
    Defs out;
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d)
        return out;
    while (dirent* e = readdir(d.get())) {
        std::string file = e->d_name;
        if (file[0] == '.' || !hasSuffix(file, ".xml"))
            continue;
        std::string path = dir + "/" + file;
        auto text = readFile(path, 1 << 20);
        if (!text) {
            warnings_.push_back("cannot read " + path);
            continue;
        }
        try {
            auto def = xml::parseInterfaceXML(*text);
            if (def.name + ".xml" != file) {
                warnings_.push_back(path + " defines '" + def.name + "', ignored");
                continue;
            }
            std::string name = def.name;
            out.emplace(std::move(name), std::move(def));
        } catch (const std::exception& ex) {
            warnings_.push_back(path + ": " + ex.what());
        }
    }
    return out;
}

const xml::HostInterfaceDef* InterfaceStore::find(const std::string& name) const
{
    auto it = defs_.find(name);
    return it == defs_.end() ? nullptr : &it->second;
}

void InterfaceStore::writeDef(const std::string& dir, const xml::HostInterfaceDef& def)
{
    xml::FormatOptions opts;
    opts.inactive = true;
    std::string path = dir + "/" + def.name + ".xml";
    writeFileAtomic(path, xml::formatInterfaceXML(def, opts) + "\n",
        "saving interface '" + def.name + "' to '" + path + "'", ErrDomain::Interface);
}

void InterfaceStore::put(const xml::HostInterfaceDef& def)
{
    writeDef(dir_, def);
    defs_[def.name] = def;
}

void InterfaceStore::remove(const std::string& name)
{
    std::string path = dir_ + "/" + name + ".xml";
    if (unlink(path.c_str()) < 0 && errno != ENOENT)
        throw systemError(ErrDomain::Interface, "cannot remove '" + path + "'", errno);
    defs_.erase(name);
}

void InterfaceStore::removeCheckpoint()
{
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(checkpointDir_.c_str()), closedir);
    if (!d)
        return;
    // The marker goes first: from then on the checkpoint no longer counts.
    unlink((checkpointDir_ + "/" + kComplete).c_str());
    while (dirent* e = readdir(d.get())) {
        std::string file = e->d_name;
        if (file != "." && file != "..")
            unlink((checkpointDir_ + "/" + file).c_str());
    }
    rmdir(checkpointDir_.c_str());
}

void InterfaceStore::begin()
{
    removeCheckpoint();
    makeDirs(checkpointDir_, 0700, ErrDomain::Interface);
    try {
        for (const auto& [name, def] : defs_)
            writeDef(checkpointDir_, def);
        writeFileAtomic(checkpointDir_ + "/" + kComplete, "", "saving the interface checkpoint", ErrDomain::Interface);
    } catch (...) {
        removeCheckpoint();
        throw;
    }
    checkpoint_ = defs_;
}

void InterfaceStore::commit()
{
    removeCheckpoint();
    checkpoint_.reset();
}

std::vector<std::string> InterfaceStore::rollback()
{
    std::vector<std::string> changed;
    Defs target = *checkpoint_; // a copy: a failed write keeps the checkpoint
    for (auto it = defs_.begin(); it != defs_.end();) {
        std::string name = it->first;
        ++it;
        if (!target.count(name)) {
            remove(name);
            changed.push_back(name);
        }
    }
    for (const auto& [name, def] : target) {
        const auto* now = find(name);
        if (!now || !(*now == def)) {
            put(def);
            changed.push_back(name);
        }
    }
    commit();
    return changed;
}

} // namespace virtbus
