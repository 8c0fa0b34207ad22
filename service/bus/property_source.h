#pragma once

#include <systemd/sd-bus.h>

#include <functional>
#include <vector>

#include "authorizer.h"
#include "dispatcher.h"

namespace virtbus::bus {

// Which properties an answer may hold (by name); null: all of them.
using PropertyFilter = std::function<bool(const char* name)>;

// What every generated server offers besides its vtable: all its properties
// as a{sv} entries, for GetAll (doubleWrap: libvirt-dbus's variant-in-variant
// values) and GetManagedObjects (standard single variants), and single
// properties by name for authorized Get/Set (service/property_gate.cpp).
class PropertySource {
public:
    virtual ~PropertySource() = default;
    virtual void appendAllProperties(
        sd_bus_message* m, const char* path, bool doubleWrap, const PropertyFilter* only = nullptr)
        = 0;
    // Appends the property as a variant; false if there is none so named.
    virtual bool appendProperty(sd_bus_message* m, const char* path, const char* name) = 0;
    // Reads a variant from `value` into the property; false if there is no
    // writable property so named.
    virtual bool setProperty(const char* path, const char* name, sd_bus_message* value) = 0;
    // The table's checks for reading (or writing) the property; empty when
    // there is no such property.
    virtual std::vector<Check> propertyChecks(const char* name, bool write) const = 0;
    virtual std::vector<const char*> propertyNames() const = 0;

    // Where method calls run: inline when null (the default), else on the
    // dispatcher's workers (see dispatcher.h). Properties are always
    // answered inline: drivers keep them cheap.
    void setDispatcher(Dispatcher* d) { dispatcher_ = d; }
    Dispatcher* dispatcher() const { return dispatcher_; }

    // appendAllProperties brackets its getters with these, so a server can
    // look the object up once for all its properties instead of once per
    // property (GetManagedObjects reads every property of every object).
    virtual void beginBatch(const char* path) { (void)path; }
    virtual void endBatch() { }

    // Who decides whether a call may run; null (the default): everyone may.
    void setAuthorizer(Authorizer* a) { authorizer_ = a; }
    Authorizer* authorizer() const { return authorizer_; }

private:
    Dispatcher* dispatcher_ = nullptr;
    Authorizer* authorizer_ = nullptr;
};

class PropertyBatch {
public:
    PropertyBatch(PropertySource& s, const char* path) : s_(s) { s_.beginBatch(path); }
    ~PropertyBatch() { s_.endBatch(); }
    PropertyBatch(const PropertyBatch&) = delete;
    PropertyBatch& operator=(const PropertyBatch&) = delete;

private:
    PropertySource& s_;
};

} // namespace virtbus::bus
