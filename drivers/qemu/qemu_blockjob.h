// What the block job, resize and peek files share: disk lookup by libvirt's
// rules, QMP calls with libvirt's error texts, and a disk's backing chain
// as the running QEMU sees it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "qemu/json.h"
#include "typed_params.h"
#include "xml/domain_xml.h"

namespace virtbus::qemu {

class Monitor;

// virDomainBlockJobType and virConnectDomainEventBlockJobStatus.
enum : int { kJobPull = 1, kJobCopy = 2, kJobCommit = 3, kJobActiveCommit = 4 };
enum : int { kJobCompleted = 0, kJobFailed = 1, kJobCanceled = 2, kJobReady = 3 };

// A live disk and the monitor to act on it.
struct BlockDisk {
    std::shared_ptr<Monitor> mon;
    std::string target, alias, path, format;
};

// Runs a QMP command; QEMU's refusal becomes libvirt's internal error
// "unable to execute QEMU command 'cmd': ...", a closed monitor "domain
// is no longer running".
json::Value qmpCall(Monitor& mon, const std::string& cmd, json::Value args = {});

// virDomainDiskByName: by target dev, or (allowSource) by source path.
xml::DiskDef* findDisk(xml::DomainDef& def, const std::string& name, bool allowSource);
// qemuDomainDiskByName's error.
VirtError diskNotFound(const std::string& name);
// qemuDomainDiskBlockJobIsActive's error.
VirtError diskBusy(const std::string& target);
// A bandwidth in MiB/s as bytes/s, with libvirt's overflow check.
uint64_t mebibytesToBytes(uint64_t mib);

// One image of a disk's chain, top first.
struct Layer {
    std::string path, format;
    std::string node; // the format node, "" when QEMU has no name for it
    std::string backingName; // the backing file name as written in the image
    uint64_t virtualSize = 0;
};
// The chain under the disk whose device is `alias` (query-block and
// query-named-block-nodes). Empty when the disk has no medium.
std::vector<Layer> diskChain(Monitor& mon, const std::string& alias);
// libvirt's <backingStore> elements for chain[from..] (depth as index),
// ending with the empty <backingStore/> of a complete chain.
std::string backingStoreXML(const std::vector<Layer>& chain, size_t from);
// Finds `name` (a path or "vda[N]") among chain[from..]; npos when absent.
size_t findLayer(const std::vector<Layer>& chain, size_t from, const std::string& name, const std::string& target);
// The relative name the image above chain[base] keeps for it when the
// chain from chain[from] down was written with relative names; "" when
// some name on the way is absolute.
std::string relativeBacking(const std::vector<Layer>& chain, size_t from, size_t base);

// A copy target's node-name stem ("vbcopyN") no node of this QEMU uses
// (names outlive a virtbusd restart), and the copy targets (format
// nodes) no disk runs on: after a restart, the target of a copy job.
std::string freeCopyNode(Monitor& mon);
std::vector<std::string> unusedCopyTargets(Monitor& mon);

// The stats "block" group's block.N.allocation (highest written offset),
// capacity (virtual size) and physical (host allocation) of the disk
// `alias`, from its query-blockstats entry and query-block.
void addBlockSizes(TypedParams& p, const std::string& prefix, const json::Value& statsEntry, const json::Value& blocks,
    const std::string& alias);

} // namespace virtbus::qemu
