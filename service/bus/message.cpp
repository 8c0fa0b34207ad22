#include "message.h"

namespace virtbus::bus {

// Clients send typed parameters wrapped once; values wrapped twice (as we
// send them) are accepted too, so a client can echo back what it read.
ParamValue Reader::getVariant()
{
    char type = 0;
    const char* contents = nullptr;
    check(sd_bus_message_peek_type(m_, &type, &contents), "peek variant");
    if (type != 'v' || !contents)
        throw BusError(EINVAL, "expected variant");
    enter('v', contents);
    ParamValue out;
    switch (contents[0]) {
    case 'v': out = getVariant(); break;
    case 'i': { int32_t x; get(x); out = x; break; }
    case 'u': { uint32_t x; get(x); out = x; break; }
    case 'x': { int64_t x; get(x); out = x; break; }
    case 't': { uint64_t x; get(x); out = x; break; }
    case 'd': { double x; get(x); out = x; break; }
    case 'b': { bool x; get(x); out = x; break; }
    case 's': { std::string x; get(x); out = std::move(x); break; }
    case 'y': { uint8_t x; get(x); out = static_cast<uint32_t>(x); break; }
    case 'n': { int16_t x; get(x); out = static_cast<int32_t>(x); break; }
    case 'q': { uint16_t x; get(x); out = static_cast<uint32_t>(x); break; }
    default: throw BusError(EINVAL, std::string("unsupported typed parameter type '") + contents + "'");
    }
    leave();
    return out;
}

void Reader::get(TypedParams& v)
{
    enter('a', "{sv}");
    v.clear();
    for (;;) {
        int r = sd_bus_message_enter_container(m_, 'e', "sv");
        check(r, "enter entry");
        if (r == 0)
            break;
        TypedParam p;
        get(p.name);
        p.value = getVariant();
        leave();
        v.push_back(std::move(p));
    }
    leave();
}

} // namespace virtbus::bus
