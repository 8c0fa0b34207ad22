// Encrypted file volumes: <encryption format='luks'> with the passphrase in
// a secret of the connection's secret store, which may be private (never
// readable over the bus) - the value only ever goes from the store to
// qemu-img through a 0600 key file in the driver's state directory, removed
// as soon as qemu-img has read it, never on a command line.
#include "storage/storage_internal.h"

#include "command.h"
#include "fileutil.h"
#include "storage/storage_file.h"
#include "xml/xml_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace virtbus {

using namespace storage;

namespace {

struct Encryption {
    std::string format, secretUuid;
};

Encryption parseEncryption(const std::string& raw)
{
    Encryption e;
    xml::XmlDoc doc = xml::parseDocument(raw, "(volume_encryption)");
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    e.format = xml::attrOr(root, "format");
    for (const xmlNode* c : xml::elementChildren(root))
        if (xml::elemName(c) == "secret")
            e.secretUuid = xml::attrOr(c, "uuid");
    return e;
}

// The key file: the secret's bytes, 0600, removed when this goes.
struct KeyFile {
    std::string path;
    explicit KeyFile(const std::string& dir, const std::vector<uint8_t>& value)
    {
        path = dir + "/key.XXXXXX";
        int fd = ::mkstemp(path.data());
        if (fd < 0)
            throw systemError(ErrDomain::Storage, "cannot create a key file in '" + dir + "'", errno);
        bool ok
            = ::fchmod(fd, 0600) == 0 && ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
        int e = errno;
        ::close(fd);
        if (!ok) {
            ::unlink(path.c_str());
            throw systemError(ErrDomain::Storage, "cannot write a key file", e);
        }
    }
    ~KeyFile() { ::unlink(path.c_str()); }
    KeyFile(const KeyFile&) = delete;
    KeyFile& operator=(const KeyFile&) = delete;
};

} // namespace

bool HostStorageDriver::createEncrypted(const std::string& poolType, xml::StorageVolDef& vol, uint32_t flags)
{
    if (vol.encryption.empty())
        return false;
    if (poolType != "dir" && poolType != "fs" && poolType != "netfs")
        throw storageErr(ErrCode::ConfigUnsupported, "encrypted volumes are not supported in '" + poolType + "' pools");
    Encryption e = parseEncryption(vol.encryption);
    if (e.format != "luks")
        throw storageErr(
            ErrCode::ConfigUnsupported, "unsupported volume encryption format '" + e.format + "' (only luks)");
    if (e.secretUuid.empty())
        throw storageErr(ErrCode::XmlError, "missing encryption secret uuid");
    if (!secretValue_)
        throw storageErr(ErrCode::OperationUnsupported, "this connection has no secrets to encrypt with");
    if (flags & flags::VolPreallocMetadata)
        throw storageErr(ErrCode::OperationUnsupported, "metadata preallocation is not supported with encryption");
    std::string format = vol.format.empty() ? "raw" : vol.format;
    if (format != "raw" && format != "qcow2")
        throw storageErr(ErrCode::ConfigUnsupported, "luks encryption needs a raw or qcow2 volume");
    checkVolumeName(vol.name);
    KeyFile key(cfg_.stateDir, secretValue_(e.secretUuid));
    std::vector<std::string> argv {"qemu-img", "create", "--object", "secret,id=sec0,format=raw,file=" + key.path};
    if (format == "raw")
        argv.insert(argv.end(), {"-f", "luks", "-o", "key-secret=sec0"});
    else
        argv.insert(argv.end(), {"-f", "qcow2", "-o", "encrypt.format=luks,encrypt.key-secret=sec0"});
    argv.insert(argv.end(), {vol.targetPath, std::to_string(vol.capacity)});
    int fd = ::open(
        vol.targetPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, vol.perms.mode.value_or(0600));
    if (fd < 0) {
        if (errno == EEXIST)
            throw makeError(ErrCode::StorageVolExist, ErrDomain::Storage, "'" + vol.name + "'");
        throw systemError(ErrDomain::Storage, "cannot create volume '" + vol.targetPath + "'", errno);
    }
    ::close(fd);
    try {
        runChecked(argv, ErrDomain::Storage);
    } catch (...) {
        ::unlink(vol.targetPath.c_str());
        throw;
    }
    return true;
}

} // namespace virtbus
