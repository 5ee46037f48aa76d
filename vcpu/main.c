/*
 * main.c - the cloister-vcpu process: runs the guest CPU. It is the client of every other
 * component: the translator (blocks), the shadow MMU (misses, tracked writes) and the device
 * models (port and MMIO accesses).
 *
 * Start-up proves every link with a real round trip and reports the worst first round-trip time
 * to the monitor. Guest execution joins here with the engine (docs/cpu.md); until a guest is
 * given, the vCPU waits for the monitor's STOP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ipc/endpoint.h"

enum { R_RAM, R_TCACHE, R_XLATE, R_MMU, R_SERIAL, R_COUNT };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One ping on a peer channel; the answer must echo our token. */
static int ping(struct chan *c, enum msg_type req, enum msg_type rsp, uint64_t token, uint64_t *rtt)
{
    struct msg m, r;
    struct msg_ping p = {token};
    msg_set(&m, req, &p, sizeof p);
    uint64_t t0 = now_ns();
    int rc = chan_call(c, &m, &r, 2000);
    if (rc < 0)
        return rc;
    *rtt = now_ns() - t0;
    if (r.type != rsp || memcmp(r.payload, &p, sizeof p) != 0)
        return -EPROTO;
    return 0;
}

int main(int argc, char **argv)
{
    static struct endpoint ep;
    static const struct endpoint_want wants[R_COUNT] = {
        [R_RAM] = {"ram", PROT_READ | PROT_WRITE, false, 0, false},
        [R_TCACHE] = {"tcache", PROT_READ, false, 0, false},
        [R_XLATE] = {"xlate", PROT_READ | PROT_WRITE, true, CHAN_XLATE, true},
        [R_MMU] = {"mmu", PROT_READ | PROT_WRITE, true, CHAN_MMU, true},
        [R_SERIAL] = {"dev-serial", PROT_READ | PROT_WRITE, true, CHAN_DEV, true},
    };
    static const struct {
        unsigned region;
        enum msg_type req, rsp;
        const char *name;
    } peers[] = {
        {R_XLATE, MSG_XL_PING, MSG_XL_PONG, "translator"},
        {R_MMU, MSG_MMU_PING, MSG_MMU_PONG, "mmu"},
        {R_SERIAL, MSG_DEV_PING, MSG_DEV_PONG, "dev-serial"},
    };
    const char *why;
    int rc = endpoint_init(&ep, COMP_VCPU, argc, argv, wants, R_COUNT, &why);
    if (rc < 0) {
        fprintf(stderr, "cloister-vcpu: %s: %s\n", why, strerror(-rc));
        return 1;
    }
    rc = endpoint_handshake(&ep);
    if (rc == -ECANCELED)
        return 0;
    if (rc < 0)
        return 1;

    struct msg_links links = {0, 0, {0, 0}};
    for (unsigned i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        uint64_t rtt = 0;
        rc = ping(&ep.chans[peers[i].region], peers[i].req, peers[i].rsp, 0x5eed0000u + i, &rtt);
        if (rc < 0) {
            char line[64];
            snprintf(line, sizeof line, "no answer from %s: %s", peers[i].name, strerror(-rc));
            endpoint_log(&ep, 2, line);
            return 1;
        }
        links.peers++;
        if (rtt > links.worst_rtt_ns)
            links.worst_rtt_ns = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    }
    struct msg m;
    msg_set(&m, MSG_CTL_LINKS, &links, sizeof links);
    if (chan_send_wait(&ep.ctl, &m, 1000) < 0)
        return 1;

    for (;;) {
        rc = ring_wait(chan_in(&ep.ctl), -1);
        if (rc < 0 && rc != -ETIMEDOUT)
            return 1;
        rc = endpoint_poll_ctl(&ep, NULL, NULL);
        if (rc == -ECANCELED)
            return 0;
        if (rc < 0)
            return 1;
    }
}
