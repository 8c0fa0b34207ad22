// Logging to stderr with sd-daemon level prefixes ("<3>"), which journald
// turns into priorities when the daemon runs under systemd.
#pragma once

#include <cstring>

namespace virtbus {

enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

void setLogLevel(LogLevel max);
void logAt(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define logError(...) ::virtbus::logAt(::virtbus::LogLevel::Error, __VA_ARGS__)
#define logWarning(...) ::virtbus::logAt(::virtbus::LogLevel::Warning, __VA_ARGS__)
#define logInfo(...) ::virtbus::logAt(::virtbus::LogLevel::Info, __VA_ARGS__)
#define logDebug(...) ::virtbus::logAt(::virtbus::LogLevel::Debug, __VA_ARGS__)

} // namespace virtbus
