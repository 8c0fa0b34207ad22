#include "log.h"

#include <cstdarg>
#include <cstdio>

namespace virtbus {

namespace {
LogLevel maxLevel = LogLevel::Info;
}

void setLogLevel(LogLevel max) { maxLevel = max; }

void logAt(LogLevel level, const char* fmt, ...)
{
    if (static_cast<int>(level) > static_cast<int>(maxLevel))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "<%d>virtbusd: %s\n", static_cast<int>(level), buf);
}

} // namespace virtbus
