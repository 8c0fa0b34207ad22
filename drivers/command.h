// Running a host tool (qemu-img, mkfs, mount, sfdisk, ...) the way a
// daemon must: no shell, no inherited fds, a clean environment, stdin from
// /dev/null, both outputs captured with a cap, and a time limit after which
// the child is killed. Callers run this on a worker thread, never on the
// bus thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "error.h"

namespace virtbus {

struct CommandResult {
    int status = -1; // exit status, or 128 + signal
    std::string out, err;
    bool timedOut = false;
};

struct CommandOptions {
    std::chrono::milliseconds timeout {std::chrono::minutes(10)};
    size_t maxOutput = 4u << 20; // per stream; the rest is read and dropped
    std::string input; // fed to stdin (then closed); /dev/null when empty
};

// Runs argv[0] (looked up in PATH when it has no '/'). Raises VirtError
// only when the program cannot be started at all.
CommandResult runCommand(
    const std::vector<std::string>& argv, const CommandOptions& opts = {}, ErrDomain domain = ErrDomain::None);

// Runs and requires exit status 0; otherwise raises libvirt's internal
// error "Child process (...) unexpected exit status N: <its stderr>".
CommandResult runChecked(const std::vector<std::string>& argv, ErrDomain domain, const CommandOptions& opts = {});

// Whether `program` is found in PATH and executable.
bool haveProgram(const std::string& program);

} // namespace virtbus
