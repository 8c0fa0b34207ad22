// Rejection corpora: documents in data/<kind>/invalid/ that a parser must
// refuse. Each starts with <!-- expect: CODE MESSAGE-FRAGMENT -->, the
// libvirt error code and a piece of the message naming the problem, so a
// new case is a new file.
#pragma once

#include "xml_corpus.h"

#include <sstream>

namespace virtbus::xml::testing_support {

struct Rejection {
    int code = -1;
    std::string message;
};

inline Rejection rejectionOf(const std::string& document)
{
    static const std::string tag = "<!-- expect: ";
    Rejection r;
    size_t end = document.find(" -->");
    if (!document.starts_with(tag) || end == std::string::npos)
        return r;
    std::istringstream fields(document.substr(tag.size(), end - tag.size()));
    fields >> r.code;
    std::getline(fields >> std::ws, r.message);
    return r;
}

// File names (with ".xml") of data/<kind>/invalid, sorted.
inline std::vector<std::string> rejectionCorpus(const std::string& kind)
{
    std::vector<std::string> names;
    std::filesystem::path dir = dataDir() / kind / "invalid";
    if (std::filesystem::is_directory(dir))
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.is_regular_file() && entry.path().extension() == ".xml")
                names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// `parse` must refuse data/<kind>/invalid/<file> the way its comment says.
template <typename Parse>
void expectRejected(const std::string& kind, const std::string& file, Parse parse)
{
    std::string doc = readFile(dataDir() / kind / "invalid" / file);
    Rejection want = rejectionOf(doc);
    ASSERT_GE(want.code, 0) << file << ": first line must be <!-- expect: CODE MESSAGE -->";
    ASSERT_FALSE(want.message.empty()) << file;
    expectError([&] { parse(doc); }, static_cast<ErrCode>(want.code), want.message);
}

} // namespace virtbus::xml::testing_support
