// org.virtbus.DomainConsole, virtbus's extension on every domain: console
// and screenshot fds (libvirt streams them; libvirt-dbus has neither).
#pragma once

#include <string>

#include "glue_DomainConsole.h"

namespace virtbus {

class Connection;

class DomainConsoleAdaptor : public glue::DomainConsoleServer {
public:
    explicit DomainConsoleAdaptor(Connection& c) : c_(c) { }
    void OpenConsole(bus::Reply<bus::UnixFd>& r, std::string devname, uint32_t flags) override;
    void Screenshot(bus::Reply<std::string, bus::UnixFd>& r, uint32_t screen, uint32_t flags) override;

private:
    std::string uuid(const char* path) const;
    Connection& c_;
};

} // namespace virtbus
