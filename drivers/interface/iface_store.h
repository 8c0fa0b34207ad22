// virtbus's own store of host interface definitions: one <name>.xml per
// interface in a directory, each written atomically, plus the checkpoint
// an InterfaceChangeBegin takes (kept on disk so a restart in the middle of
// a transaction can still roll back). Not thread-safe: the driver locks.
#pragma once

#include "xml/interface_xml.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace virtbus {

class InterfaceStore {
public:
    explicit InterfaceStore(std::string dir);

    const std::map<std::string, xml::HostInterfaceDef>& defs() const { return defs_; }
    const xml::HostInterfaceDef* find(const std::string& name) const;
    void put(const xml::HostInterfaceDef& def);
    void remove(const std::string& name);

    bool inTransaction() const { return checkpoint_.has_value(); }
    void begin(); // snapshot the definitions
    void commit(); // forget the snapshot
    // Restores the snapshot; returns the names whose definition changed.
    std::vector<std::string> rollback();

    const std::vector<std::string>& loadWarnings() const { return warnings_; }

private:
    using Defs = std::map<std::string, xml::HostInterfaceDef>;
    Defs loadDir(const std::string& dir);
    void writeDef(const std::string& dir, const xml::HostInterfaceDef& def);
    void removeCheckpoint();

    std::string dir_, checkpointDir_;
    Defs defs_;
    std::optional<Defs> checkpoint_;
    std::vector<std::string> warnings_;
};

} // namespace virtbus
