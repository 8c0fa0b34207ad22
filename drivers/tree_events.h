// Object-tree notifications (InterfacesAdded/Removed and
// PropertiesChanged) of a driver, gathered while a driver's lock is held and
// delivered once it is released: the service answers them by reading the
// object back through the driver, which takes the lock again.
#pragma once

#include "events.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace virtbus {

class TreeEvents {
public:
    void added(ObjectType type, std::string key, std::string sub = {})
    {
        list_.push_back({Kind::Added, {type, std::move(key), std::move(sub)}, 0});
    }
    void removed(ObjectType type, std::string key, std::string sub = {})
    {
        list_.push_back({Kind::Removed, {type, std::move(key), std::move(sub)}, 0});
    }
    // `props` are the prop:: bits whose value differs from before the
    // call. Nothing is reported for an empty set, nor for an object that
    // appeared or went in the same call: InterfacesAdded already carries
    // the new values, and a removed object has none.
    void changed(ObjectType type, const std::string& key, uint32_t props)
    {
        if (props == 0)
            return;
        bool bornOrGone = std::any_of(list_.begin(), list_.end(), [&](const Entry& e) {
            return e.kind != Kind::Changed && e.id.type == type && e.id.key == key && e.id.sub.empty();
        });
        if (!bornOrGone)
            list_.push_back({Kind::Changed, {type, key, {}}, props});
    }

    // For networks and pools, whose changeable properties are booleans:
    // `before` and `after` are the prop:: bits of those that are true, or
    // `before` is kNew when the call made the object.
    static constexpr uint32_t kNew = ~0u;
    void addedOrFlipped(ObjectType type, const std::string& key, uint32_t before, uint32_t after)
    {
        if (before == kNew)
            added(type, key);
        else
            changed(type, key, before ^ after);
    }

    void deliver(EventSink* sink) const
    {
        if (!sink)
            return;
        for (const auto& e : list_) {
            switch (e.kind) {
            case Kind::Added: sink->objectAdded(e.id); break;
            case Kind::Removed: sink->objectRemoved(e.id); break;
            case Kind::Changed: sink->propertiesChanged(e.id, e.props); break;
            }
        }
    }

private:
    enum class Kind : uint8_t { Added, Removed, Changed };
    struct Entry {
        Kind kind;
        ObjectId id;
        uint32_t props;
    };
    std::vector<Entry> list_;
};

} // namespace virtbus
