// The shapes of what QEMU sends on its monitor, one JSON object per line:
// the greeting, a command's answer (return or error), an event.
#include "qemu/qmp.h"

namespace virtbus::qemu {

QmpError::QmpError(std::string c, std::string d) : std::runtime_error(d), cls(std::move(c)), desc(std::move(d)) {}

QmpMessage parseQmpMessage(std::string_view line)
{
    json::Value v = json::parse(line);
    if (!v.isObject())
        throw json::ParseError("QMP message is not a JSON object");
    QmpMessage m;
    int shapes = 0;
    json::Value timestamp, data;
    // Moved out member by member: replies such as query-qmp-schema are big.
    for (auto& [key, member] : v.asObject()) {
        if (key == "QMP" || key == "return" || key == "error" || key == "event") {
            if (++shapes > 1)
                throw json::ParseError("QMP message has more than one of QMP, return, error and event");
        }
        if (key == "QMP") {
            if (!member.isObject())
                throw json::ParseError("QMP greeting is not an object");
            m.type = QmpMessage::Type::Greeting;
            m.body = std::move(member);
        } else if (key == "return") {
            m.type = QmpMessage::Type::Return;
            m.body = std::move(member);
        } else if (key == "error") {
            if (!member.isObject() || !member.find("class") || !member.find("class")->isString() ||
                !member.find("desc") || !member.find("desc")->isString())
                throw json::ParseError("QMP error needs string members class and desc");
            m.type = QmpMessage::Type::Error;
            m.body = std::move(member);
        } else if (key == "event") {
            if (!member.isString())
                throw json::ParseError("QMP event name is not a string");
            m.type = QmpMessage::Type::Event;
            m.event = member.asString();
        } else if (key == "id") {
            m.id = std::move(member);
        } else if (key == "data") {
            data = std::move(member);
        } else if (key == "timestamp") {
            timestamp = std::move(member);
        }
    }
    if (shapes == 0)
        throw json::ParseError("not a QMP message (no QMP, return, error or event member)");
    if (m.type != QmpMessage::Type::Event)
        return m;
    // null data is what QEMU never sends but "absent" means anyway.
    if (!data.isNull() && !data.isObject())
        throw json::ParseError("QMP event data is not an object");
    m.body = std::move(data);
    if (!timestamp.isNull()) {
        const json::Value* sec = timestamp.find("seconds");
        const json::Value* usec = timestamp.find("microseconds");
        if (!sec || !usec || sec->kind() != json::Value::Kind::Int || usec->kind() != json::Value::Kind::Int)
            throw json::ParseError("QMP event timestamp needs integer seconds and microseconds");
        m.seconds = sec->asInt();
        m.microseconds = usec->asInt();
    }
    return m;
}

} // namespace virtbus::qemu
