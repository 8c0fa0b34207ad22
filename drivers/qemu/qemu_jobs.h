// Long domain jobs that stream guest memory into a file (save, managed
// save, core dump): what GetJobInfo / GetJobStats / AbortJob see while
// the worker that runs the job holds the domain's job mutex. Private to
// qemu_save.cpp and qemu_jobs.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "qemu/json.h"
#include "typed_params.h"

namespace virtbus::qemu {

class Monitor;

// virDomainJobType and virDomainJobOperation.
enum : int { JobNone = 0, JobBounded = 1, JobUnbounded = 2, JobCompleted = 3, JobFailed = 4, JobCancelled = 5 };
enum : int { JobOpSave = 2, JobOpRestore = 3, JobOpDump = 8 };
// virDomainPausedReason / virDomainRunningReason / virDomainShutoffReason
// values only these jobs give.
enum : int { PausedSave = 3, PausedDump = 4, RunningSaveCanceled = 7, ShutoffSaved = 5 };

struct AsyncJob {
    int operation = 0;
    bool memoryOnly = false; // dump-guest-memory (query-dump), else migration (query-migrate)
    std::shared_ptr<Monitor> mon;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::atomic<bool> cancelled {false}; // AbortJob asked
    // Once over (QemuDriver::mu_): virDomainJobType and the final figures.
    int type = JobUnbounded;
    TypedParams stats;
};

// The figures of a job from QEMU's answer to query-migrate or query-dump
// (libvirt's key names: operation, time_elapsed, data_*, memory_*).
TypedParams jobStatsFrom(const AsyncJob& job, const json::Value* reply);
uint64_t jobElapsedMs(const AsyncJob& job);

} // namespace virtbus::qemu
