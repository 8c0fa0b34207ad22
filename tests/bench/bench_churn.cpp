// Issue 10's phases about definitions: DomainDefineXML + Undefine churn on
// the Test and the QEMU connection, and virtbusd's start with thousands of
// persistent QEMU definitions on disk.
#include "bench_runner.h"

namespace bench {

namespace {

// One define + undefine pair; the domain's name is the same every time, as
// nothing of it is left after the pair.
void definePair(sd_bus* b, const Target& t, const char* conn, const std::string& xml)
{
    undefineDomain(b, t.name, defineDomain(b, t.name, conn, xml));
}

void expectDomains(sd_bus* b, const Target& t, const char* conn, size_t n)
{
    size_t have = listDomains(b, t.name, conn, true);
    if (have != n)
        throw std::runtime_error(
            std::string(conn) + " lists " + std::to_string(have) + " domains, expected " + std::to_string(n));
}

} // namespace

// (6) Rounds alternate between virtbus and libvirt-dbus on the Test
// connection (in memory for both). virtbus's rounds go on with the QEMU
// connection, where each define validates against the probed capabilities
// and writes the definition atomically (temp file, fsync, rename, fsync of
// the directory) and each undefine unlinks it. libvirt-dbus' QEMU
// connection would need libvirtd, which the bench does not run.
void Bench::churn()
{
    const int rounds = 5, per = std::max(1, opt_.churn / rounds);
    const std::string testXml = testDomainXml("churn"), qemuXml = qemuDomainXml("churn");
    for (int round = 0; round < rounds; ++round)
        forEach(
            [&](Target& t) {
                if (!t.libvirt)
                    return;
                pid_t pid = launch(t, nullptr);
                // Out of the figures: libvirt-dbus opens test:///default on
                // the first call; virtbusd loads (or, the first time, probes)
                // the emulator's capabilities on the first QEMU define.
                definePair(client_, t, TestConnect, testXml);
                if (t.virtbus)
                    definePair(client_, t, QemuConnect, qemuXml);
                for (int i = 0; i < per; ++i) {
                    double t0 = nowUs();
                    definePair(client_, t, TestConnect, testXml);
                    t.r.churnTestUs.push_back(nowUs() - t0);
                }
                expectDomains(client_, t, TestConnect, 1);
                if (t.virtbus) {
                    for (int i = 0; i < per; ++i) {
                        double t0 = nowUs();
                        definePair(client_, t, QemuConnect, qemuXml);
                        t.r.churnQemuUs.push_back(nowUs() - t0);
                    }
                    expectDomains(client_, t, QemuConnect, 0);
                }
                halt(t, pid);
            },
            round % 2 == 1);
}

// (7) The definitions are made once, through a running virtbusd (so the
// files are exactly what it writes), in a config dir of their own. Then
// restarts alternate between that dir and an empty one: exec -> name owned,
// RSS at that moment, and for the full dir also until a QEMU ListDomains
// answers with all of them (the same moment unless loading becomes lazy).
void Bench::persistence()
{
    forEach([&](Target& t) {
        if (!t.virtbus)
            return;
        const size_t n = size_t(opt_.qemuDomains);
        Target full = t;
        full.label = t.label + "-qemu" + std::to_string(n);
        full.env = qemuEnv(qemuDir_ + "/config-persistent");

        pid_t pid = launch(full, nullptr);
        // The capability cache is warm (the churn phase probed): the first
        // define only loads it; pipelined, since only the files matter.
        double t0 = nowUs();
        defineQemuDomains(client_, t.name, "persist-", n, 8);
        t.r.persistDefineUs = (nowUs() - t0) / double(n);
        expectDomains(client_, t, QemuConnect, n);
        halt(full, pid);

        for (int i = 0; i < opt_.restarts; ++i)
            for (int k = 0; k < 2; ++k) {
                bool withDefs = (k == 0) == (i % 2 == 0);
                Target& which = withDefs ? full : t;
                double startedUs = 0, before = nowUs();
                pid = launch(which, &startedUs);
                (withDefs ? t.r.rssPersistKb : t.r.rssEmptyKb).push_back(double(rssKb(pid)));
                if (withDefs) {
                    t.r.startPersistMs.push_back(startedUs / 1000.0);
                    expectDomains(client_, t, QemuConnect, n);
                    t.r.readyPersistMs.push_back((nowUs() - before) / 1000.0);
                } else {
                    t.r.startEmptyMs.push_back(startedUs / 1000.0);
                }
                halt(which, pid);
            }
    });
}

} // namespace bench
