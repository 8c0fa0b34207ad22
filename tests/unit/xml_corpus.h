// Shared by the XML model tests: the golden corpora under
// $VIRTBUS_TEST_DATA/<kind>, schema checks through libxml2's RelaxNG API,
// error expectations and hostile documents.
//
// A corpus directory holds inputs NAME.xml; NAME.out.xml, when present, is
// what formatting NAME.xml must produce (otherwise the input is canonical
// and is its own golden output).
#pragma once

#include "error.h"
#include "xml/xml_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace virtbus::xml::testing_support {

// $VIRTBUS_TEST_DATA (set by `meson test`), else the directory the build
// compiled in (XML_TEST_DATA_DIR), so a test binary also runs by hand.
inline std::filesystem::path dataDir()
{
    const char* dir = std::getenv("VIRTBUS_TEST_DATA");
    if (dir && *dir)
        return dir;
#ifdef XML_TEST_DATA_DIR
    return XML_TEST_DATA_DIR;
#else
    return "tests/unit/data";
#endif
}

inline std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Input names (without ".xml") of a corpus, sorted; golden outputs and
// subdirectories are not inputs.
inline std::vector<std::string> corpus(const std::string& kind)
{
    std::vector<std::string> names;
    std::filesystem::path dir = dataDir() / kind;
    if (!std::filesystem::is_directory(dir))
        return names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string file = entry.path().filename().string();
        if (!entry.is_regular_file() || !file.ends_with(".xml") || file.ends_with(".out.xml"))
            continue;
        names.push_back(file.substr(0, file.size() - 4));
    }
    std::sort(names.begin(), names.end());
    return names;
}

inline std::string corpusInput(const std::string& kind, const std::string& name)
{
    return readFile(dataDir() / kind / (name + ".xml"));
}

inline std::string corpusGolden(const std::string& kind, const std::string& name)
{
    std::filesystem::path golden = dataDir() / kind / (name + ".out.xml");
    return std::filesystem::exists(golden) ? readFile(golden) : corpusInput(kind, name);
}

// gtest parameter names may only hold letters, digits and '_'.
inline std::string paramName(const ::testing::TestParamInfo<std::string>& info)
{
    std::string out = info.param;
    for (char& c : out)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            c = '_';
    return out;
}

inline bool haveSchema(const std::string& rng) { return std::filesystem::exists(schemaPath(rng)); }

inline void expectSchemaValid(const std::string& xml, const std::string& rng)
{
    try {
        XmlDoc doc = parseDocument(xml, "(formatted)");
        validateSchema(doc, rng);
    } catch (const VirtError& e) {
        ADD_FAILURE() << "not valid against " << rng << ": " << e.what() << "\n" << xml;
    }
}

// `fn` must throw a VirtError with `code` whose message contains `message`.
inline void expectError(const std::function<void()>& fn, ErrCode code, const std::string& message)
{
    try {
        fn();
        ADD_FAILURE() << "no error; expected: " << message;
    } catch (const VirtError& e) {
        EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
        EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
            << "message: " << e.what() << "\nexpected to contain: " << message;
    }
}

// A "billion laughs" document: entities e0..e11, each ten of the previous,
// declared for root element `root`; `body` references them.
inline std::string billionLaughs(const std::string& root, const std::string& body)
{
    std::string doc = "<?xml version='1.0'?>\n<!DOCTYPE " + root + " [\n  <!ENTITY e0 \"lol\">\n";
    for (int i = 1; i <= 11; ++i) {
        std::string prev = "&e" + std::to_string(i - 1) + ";";
        std::string ten;
        for (int k = 0; k < 10; ++k)
            ten += prev;
        doc += "  <!ENTITY e" + std::to_string(i) + " \"" + ten + "\">\n";
    }
    return doc + "]>\n" + body + "\n";
}

} // namespace virtbus::xml::testing_support
