/*
 * main.c - the cloister-vcpu process: runs the guest CPU. It is the client of every other
 * component: the translator (blocks), the shadow MMU (misses, tracked writes) and the device
 * models (port and MMIO accesses).
 *
 * Start-up proves every link with a real round trip and reports the worst first round-trip time
 * to the monitor. If the monitor sent a BOOT message before START, the guest runs: blocks come
 * from the translator through the staging region (copied and validated by the block cache),
 * port I/O to COM1 goes to the serial device (writes posted, reads answered), and the guest's
 * end (HLT with interrupts off, triple fault) is reported to the monitor. Without a guest, the
 * vCPU waits for the monitor's STOP.
 *
 * Everything received from the translator and the devices is untrusted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ipc/endpoint.h"
#include "ipc/tcache.h"
#include "vcpu/run.h"

enum { R_RAM, R_TCACHE, R_XLATE, R_MMU, R_SERIAL, R_COUNT };

#define COM1_BASE 0x3F8
#define RUN_SLICE 200000  /* instructions between looks at the control channel */
#define IPC_TIMEOUT_MS 2000

struct vcpu_proc {
    struct endpoint ep;
    struct vcpu v;
    struct msg_boot boot;
    bool have_boot;
    bool broken;          /* a peer sent garbage or stopped answering: stop the VM */
    const char *why;
};

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
    int rc = chan_call(c, &m, &r, IPC_TIMEOUT_MS);
    if (rc < 0)
        return rc;
    *rtt = now_ns() - t0;
    if (r.type != rsp || memcmp(r.payload, &p, sizeof p) != 0)
        return -EPROTO;
    return 0;
}

static int link_peers(struct vcpu_proc *p)
{
    static const struct {
        unsigned region;
        enum msg_type req, rsp;
        const char *name;
    } peers[] = {
        {R_XLATE, MSG_XL_PING, MSG_XL_PONG, "translator"},
        {R_MMU, MSG_MMU_PING, MSG_MMU_PONG, "mmu"},
        {R_SERIAL, MSG_DEV_PING, MSG_DEV_PONG, "dev-serial"},
    };
    struct msg_links links = {0, 0, {0, 0}};
    for (unsigned i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        uint64_t rtt = 0;
        int rc = ping(&p->ep.chans[peers[i].region], peers[i].req, peers[i].rsp, 0x5eed0000u + i, &rtt);
        if (rc < 0) {
            char line[64];
            snprintf(line, sizeof line, "no answer from %s: %s", peers[i].name, strerror(-rc));
            endpoint_log(&p->ep, 2, line);
            return rc;
        }
        links.peers++;
        if (rtt > links.worst_rtt_ns)
            links.worst_rtt_ns = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    }
    struct msg m;
    msg_set(&m, MSG_CTL_LINKS, &links, sizeof links);
    return chan_send_wait(&p->ep.ctl, &m, 1000);
}

static void on_ctl(void *ctx, const struct msg *m)
{
    struct vcpu_proc *p = ctx;
    if (m->type == MSG_CTL_BOOT) {
        memcpy(&p->boot, m->payload, sizeof p->boot);
        p->have_boot = true;
    }
}

static void fail(struct vcpu_proc *p, const char *why)
{
    if (!p->broken) {
        p->broken = true;
        p->why = why;
    }
}

/* ---- blocks from the translator ---- */

static int translate(void *ctx, const struct msg_translate *req, const void **block, size_t *size)
{
    struct vcpu_proc *p = ctx;
    struct chan *c = &p->ep.chans[R_XLATE];
    struct region *staging = &p->ep.regions[R_TCACHE];
    struct msg m, r;
    msg_set(&m, MSG_XL_TRANSLATE, req, sizeof *req);
    if (chan_call(c, &m, &r, IPC_TIMEOUT_MS) < 0 || r.type != MSG_XL_BLOCK) {
        fail(p, "the translator did not answer a translation request");
        return -1;
    }
    struct msg_block b;
    memcpy(&b, r.payload, sizeof b);
    if (b.eip != req->eip) {
        fail(p, "the translator answered for another address");
        return -1;
    }
    if (b.status != XL_OK)
        return (int)b.status;
    if (!region_span_ok(staging, b.offset, b.size) || b.size > TC_MAX_BLOCK_BYTES) {
        fail(p, "the translator pointed outside its staging region");
        return -1;
    }
    *block = (const uint8_t *)staging->base + b.offset;
    *size = b.size;
    return XL_OK;
}

/* ---- port I/O ---- */

static bool is_com1(uint16_t port) { return port >= COM1_BASE && port < COM1_BASE + 8; }

static uint32_t pio_in(void *ctx, uint16_t port, unsigned size)
{
    struct vcpu_proc *p = ctx;
    uint32_t ones = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (!is_com1(port))
        return ones; /* nothing there: the bus floats high */
    struct msg m, r;
    struct msg_pio io = {port, (uint8_t)size, 0, 0};
    msg_set(&m, MSG_DEV_PIO_READ, &io, sizeof io);
    if (chan_call(&p->ep.chans[R_SERIAL], &m, &r, IPC_TIMEOUT_MS) < 0 || r.type != MSG_DEV_PIO_DATA) {
        fail(p, "the serial device did not answer a port read");
        return ones;
    }
    memcpy(&io, r.payload, sizeof io);
    return io.value & ones;
}

static void pio_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    struct vcpu_proc *p = ctx;
    if (!is_com1(port))
        return;
    struct msg m;
    struct msg_pio io = {port, (uint8_t)size, 0, value};
    msg_set(&m, MSG_DEV_PIO_WRITE, &io, sizeof io);
    if (chan_send_wait(&p->ep.chans[R_SERIAL], &m, IPC_TIMEOUT_MS) < 0)
        fail(p, "the serial device stopped taking port writes");
}

static uint64_t host_tsc(void *ctx)
{
    (void)ctx;
    return __builtin_ia32_rdtsc();
}

/* ---- the guest ---- */

static void report_stop(struct vcpu_proc *p, enum stop_reason reason, uint32_t detail)
{
    struct msg m;
    struct msg_stop s = {reason, detail};
    msg_set(&m, MSG_CTL_VM_STOP, &s, sizeof s);
    chan_send_wait(&p->ep.ctl, &m, 1000);
}

/* The translation cache counters, on the monitor's console (log lines are short). */
static void log_counters(struct vcpu_proc *p)
{
    const struct tcache_counters *c = &p->v.tc.count;
    char line[64];
    snprintf(line, sizeof line, "%llu guest instructions, %llu blocks run",
             (unsigned long long)p->v.insns, (unsigned long long)p->v.blocks_run);
    endpoint_log(&p->ep, 0, line);
    snprintf(line, sizeof line, "translated %llu, chained %llu, lookups %llu",
             (unsigned long long)c->translated, (unsigned long long)c->chain_hits,
             (unsigned long long)c->lookups);
    endpoint_log(&p->ep, 0, line);
    snprintf(line, sizeof line, "invalidated %llu, flushes %llu, rejected %llu",
             (unsigned long long)c->invalidations, (unsigned long long)c->flushes,
             (unsigned long long)c->rejected);
    endpoint_log(&p->ep, 0, line);
}

static int run_guest(struct vcpu_proc *p)
{
    struct vcpu *v = &p->v;
    engine_flat32(&v->cpu, 0);
    v->cpu.eip = p->boot.entry;
    v->cpu.r[IR_EAX] = p->boot.eax;
    v->cpu.r[IR_EBX] = p->boot.ebx;
    v->cpu.r[IR_ESI] = p->boot.esi;
    v->cpu.r[IR_ESP] = p->boot.esp;
    if (p->boot.mode == BOOT_LINUX32) {
        /* The Linux boot protocol's entry state: selectors of the loader's GDT, whose flat
         * descriptors match the hidden state engine_flat32() set up. */
        v->cpu.gdtr.base = p->boot.gdt_base;
        v->cpu.gdtr.limit = (uint16_t)p->boot.gdt_limit;
        for (unsigned s = 0; s < IR_NSREG; s++)
            v->cpu.seg[s].sel = s == IR_CS ? BOOT_LINUX32_CS : BOOT_LINUX32_DS;
    }
    v->src.ctx = p;
    v->src.translate = translate;
    v->eng.io = (struct engine_io){p, pio_in, pio_out, host_tsc};

    for (;;) {
        int stop = vcpu_run(v, RUN_SLICE);
        if (p->broken) {
            endpoint_log(&p->ep, 2, p->why);
            report_stop(p, STOP_INTERNAL, 0);
            return 1;
        }
        switch (stop) {
        case VCPU_HALT_DEAD:
            endpoint_log(&p->ep, 0, "guest halted with interrupts disabled");
            log_counters(p);
            report_stop(p, STOP_GUEST_HALT, 0);
            return 0;
        case VCPU_TRIPLE:
            endpoint_log(&p->ep, 1, "guest triple fault");
            log_counters(p);
            report_stop(p, STOP_GUEST_RESET, 0);
            return 0;
        case VCPU_BAD_BLOCK:
            endpoint_log(&p->ep, 2, "the translator produced a malformed block");
            report_stop(p, STOP_INTERNAL, 0);
            return 1;
        case VCPU_HALTED: {
            /* No interrupt source is wired yet: idle on the control channel. */
            int rc = ring_wait(chan_in(&p->ep.ctl), 10);
            if (rc < 0 && rc != -ETIMEDOUT)
                return 1;
            break;
        }
        default:
            break;
        }
        int rc = endpoint_poll_ctl(&p->ep);
        if (rc == -ECANCELED) {
            log_counters(p);
            return 0;
        }
        if (rc < 0)
            return 1;
    }
}

int main(int argc, char **argv)
{
    static struct vcpu_proc p;
    static const struct endpoint_want wants[R_COUNT] = {
        [R_RAM] = {"ram", PROT_READ | PROT_WRITE, false, 0, false},
        [R_TCACHE] = {"tcache", PROT_READ, false, 0, false},
        [R_XLATE] = {"xlate", PROT_READ | PROT_WRITE, true, CHAN_XLATE, true},
        [R_MMU] = {"mmu", PROT_READ | PROT_WRITE, true, CHAN_MMU, true},
        [R_SERIAL] = {"dev-serial", PROT_READ | PROT_WRITE, true, CHAN_DEV, true},
    };
    const char *why;
    int rc = endpoint_init(&p.ep, COMP_VCPU, argc, argv, wants, R_COUNT, &why);
    if (rc < 0) {
        fprintf(stderr, "cloister-vcpu: %s: %s\n", why, strerror(-rc));
        return 1;
    }
    /* The block cache lives in memory allocated before the guest runs; its size is fixed. */
    if (vcpu_init(&p.v, p.ep.regions[R_RAM].base, (uint32_t)p.ep.regions[R_RAM].size, 32u << 20) < 0) {
        fprintf(stderr, "cloister-vcpu: cannot allocate the translation cache\n");
        return 1;
    }
    p.ep.on_ctl = on_ctl;
    p.ep.ctl_ctx = &p;
    rc = endpoint_start(&p.ep, argv[0]);
    if (rc != ENDPOINT_GO)
        return rc;
    if (link_peers(&p) < 0)
        return 1;
    if (p.have_boot)
        return run_guest(&p);

    for (;;) {
        rc = ring_wait(chan_in(&p.ep.ctl), -1);
        if (rc < 0 && rc != -ETIMEDOUT)
            return 1;
        rc = endpoint_poll_ctl(&p.ep);
        if (rc == -ECANCELED)
            return 0;
        if (rc < 0)
            return 1;
    }
}
