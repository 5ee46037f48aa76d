/*
 * runner.c - cloister-oracle-native: executes oracle test cases natively as 32-bit user code.
 *
 * Started by cloister-oracle with a shared-memory region (struct orn_shm, fd given by --shm-fd)
 * and a socket (--sock-fd) used as a doorbell. For each case it installs the requested LDT
 * descriptors (modify_ldt), copies the code page and data area to their fixed addresses (see
 * proto.h), runs the code with the requested registers, flags and segments, and records the state
 * the kernel reports at the signal that ends the case (every case ends in one: its code ends in
 * UD2). A per-case interval timer stops runaway cases.
 *
 * Trusts: the kernel. The requests are checked for bounds; the code they carry is arbitrary and
 * runs in this process, so the parent must keep memory operands inside the layout of proto.h
 * (the parent's generators do; a stray write that kills the runner is detected by the parent).
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/oracle/proto.h"

#if !defined(__i386__)
#error "the native runner must be built for 32-bit x86 (-m32)"
#endif

/* Shared with entry.S: the case being started, and the way back. */
uint32_t orn_in_regs[8];
uint32_t orn_in_eflags;
uint16_t orn_in_sel[ORN_NSEG];
uint32_t orn_in_entry;
uint32_t orn_saved_esp;
uint32_t orn_want_fninit;
volatile uint32_t orn_in_test;
uint16_t orn_runner_fs, orn_runner_gs;
static uint16_t runner_cs, runner_ds;
/* The signal handler fills this; run_case publishes it to the shared slot, status last, so a
 * runner that dies mid-case never leaves a half-written result marked done. */
static struct orn_out local_out;

void orn_run_native(void);
extern char orn_run_native_end[];
void orn_resume(void);
void orn_sig_tramp(int sig, siginfo_t *si, void *uc);
void orn_sig_handler(int sig, siginfo_t *si, void *ucv);

static uint8_t *code_alias; /* writable view of the code page */
static uint8_t altstack[64 * 1024];
static struct orn_desc ldt_cache[ORN_LDT_ENTRIES];
static uint8_t ldt_raw[ORN_LDT_ENTRIES][8];
static int ldt_valid;

static void die(const char *what)
{
    fprintf(stderr, "cloister-oracle-native: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Runs on the alternate stack with GS/FS already restored by orn_sig_tramp. No libc calls on the
 * normal path: the case may have interrupted anything only inside test code. */
void orn_sig_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    if (!orn_in_test) {
        if (sig == SIGALRM)
            return; /* a stale timer between cases */
        static const char msg[] = "cloister-oracle-native: fault outside a test case\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(3);
    }
    orn_in_test = 0;
    struct orn_out *o = &local_out;
    o->status = sig == SIGALRM ? ORN_ST_TIMEOUT : ORN_ST_DONE;
    o->signo = (uint32_t)sig;
    o->trapno = (uint32_t)g[REG_TRAPNO];
    o->err = (uint32_t)g[REG_ERR];
    o->addr = (uint32_t)(uintptr_t)si->si_addr;
    o->cr2 = (uint32_t)uc->uc_mcontext.cr2;
    o->regs[ORN_EAX] = (uint32_t)g[REG_EAX];
    o->regs[ORN_ECX] = (uint32_t)g[REG_ECX];
    o->regs[ORN_EDX] = (uint32_t)g[REG_EDX];
    o->regs[ORN_EBX] = (uint32_t)g[REG_EBX];
    o->regs[ORN_ESP] = (uint32_t)g[REG_ESP];
    o->regs[ORN_EBP] = (uint32_t)g[REG_EBP];
    o->regs[ORN_ESI] = (uint32_t)g[REG_ESI];
    o->regs[ORN_EDI] = (uint32_t)g[REG_EDI];
    o->eip = (uint32_t)g[REG_EIP];
    o->eflags = (uint32_t)g[REG_EFL];
    o->sel[ORN_ES] = (uint16_t)g[REG_ES];
    o->sel[ORN_CS] = (uint16_t)g[REG_CS];
    o->sel[ORN_SS] = (uint16_t)g[REG_SS];
    o->sel[ORN_DS] = (uint16_t)g[REG_DS];
    o->sel[ORN_FS] = (uint16_t)g[REG_FS];
    o->sel[ORN_GS] = (uint16_t)g[REG_GS];
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    if (fp) {
        o->fcw = (uint16_t)fp->cw;
        o->fsw = (uint16_t)fp->sw;
        o->ftw = (uint16_t)fp->tag;
        for (unsigned i = 0; i < 8; i++)
            memcpy(o->st[i], &fp->_st[i], 10);
    }
    /* Resume in the runner with its own segments and clean flags. */
    g[REG_EIP] = (greg_t)(uintptr_t)orn_resume;
    g[REG_ESP] = (greg_t)orn_saved_esp;
    g[REG_CS] = runner_cs;
    g[REG_SS] = runner_ds;
    g[REG_DS] = runner_ds;
    g[REG_ES] = runner_ds;
    g[REG_FS] = orn_runner_fs;
    g[REG_GS] = orn_runner_gs;
    g[REG_EFL] = 0x202;
}

static void install_handlers(void)
{
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = orn_sig_tramp;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, NULL) != 0)
            die("sigaction");
    }
}

static void map_fixed(uint32_t addr, uint32_t size, int prot, int flags, int fd)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED || (uintptr_t)p != addr)
        die("mmap at a fixed address");
}

/* The data area, its guard page, the code page (shared with a writable alias), and PROT_NONE
 * reservations over the "unmapped" regions so nothing else can ever land there. */
static void setup_layout(void)
{
    int anon = MAP_PRIVATE | MAP_ANONYMOUS;
    map_fixed(ORN_UNMAPPED_LO, ORN_DATA_BASE - ORN_UNMAPPED_LO, PROT_NONE, anon, -1);
    map_fixed(ORN_DATA_BASE, ORN_DATA_SIZE, PROT_READ | PROT_WRITE, anon, -1);
    map_fixed(ORN_GUARD_BASE, ORN_UNMAPPED_HI - ORN_GUARD_BASE, PROT_NONE, anon, -1);
    map_fixed(ORN_UNMAPPED_HI, ORN_CODE_BASE - ORN_UNMAPPED_HI, PROT_NONE, anon, -1);
    map_fixed(ORN_CODE_BASE + ORN_CODE_SIZE, 0x10000, PROT_NONE, anon, -1);
    int fd = memfd_create("oracle-code", 0);
    if (fd < 0 || ftruncate(fd, ORN_CODE_SIZE) != 0)
        die("memfd for the code page");
    map_fixed(ORN_CODE_BASE, ORN_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd);
    code_alias = mmap(NULL, ORN_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (code_alias == MAP_FAILED)
        die("mmap code alias");
    close(fd);
}

static int write_ldt_entry(unsigned idx, const struct orn_desc *d)
{
    struct user_desc u;
    memset(&u, 0, sizeof u);
    u.entry_number = idx;
    if (d->present) {
        u.base_addr = d->base;
        u.limit = d->limit & 0xFFFFF;
        u.seg_32bit = d->seg_32bit & 1;
        u.contents = d->contents & 3;
        u.read_exec_only = d->read_exec_only & 1;
        u.limit_in_pages = d->limit_in_pages & 1;
        u.useable = d->useable & 1;
        u.seg_not_present = d->not_present & 1;
    } else {
        u.read_exec_only = 1;
        u.seg_not_present = 1; /* with everything else zero: the kernel installs a null entry */
    }
    return (int)syscall(SYS_modify_ldt, 0x11, &u, sizeof u);
}

static int sync_ldt(const struct orn_desc *want)
{
    if (ldt_valid && memcmp(want, ldt_cache, sizeof ldt_cache) == 0)
        return 0;
    ldt_valid = 0;
    for (unsigned i = 0; i < ORN_LDT_ENTRIES; i++)
        if (write_ldt_entry(i, &want[i]) != 0)
            return -1;
    uint8_t raw[ORN_LDT_ENTRIES * 8];
    memset(raw, 0, sizeof raw);
    long n = syscall(SYS_modify_ldt, 0, raw, sizeof raw);
    if (n < 0)
        return -1;
    memcpy(ldt_raw, raw, sizeof raw);
    memcpy(ldt_cache, want, sizeof ldt_cache);
    ldt_valid = 1;
    return 0;
}

static void publish(struct orn_slot *s)
{
    memcpy(local_out.ldt_raw, ldt_raw, sizeof ldt_raw);
    uint32_t status = local_out.status;
    local_out.status = ORN_ST_EMPTY;
    memcpy(&s->out, &local_out, offsetof(struct orn_out, data));
    __atomic_store_n(&s->out.status, status, __ATOMIC_RELEASE);
}

static void run_case(struct orn_slot *s)
{
    struct orn_in *in = &s->in;
    struct orn_out *out = &local_out;
    memset(out, 0, offsetof(struct orn_out, data));
    if (in->entry < ORN_CODE_BASE || in->entry >= ORN_CODE_BASE + ORN_CODE_SIZE) {
        out->status = ORN_ST_BADREQ;
        publish(s);
        return;
    }
    if (sync_ldt(in->ldt) != 0) {
        out->status = ORN_ST_SETUP;
        out->err = (uint32_t)errno;
        publish(s);
        return;
    }
    memcpy(code_alias, in->code, ORN_CODE_SIZE);
    memcpy((void *)(uintptr_t)ORN_DATA_BASE, in->data, ORN_DATA_SIZE);
    memcpy(orn_in_regs, in->regs, sizeof orn_in_regs);
    orn_in_eflags = (in->eflags & 0xCD5u) | 0x202u;
    for (unsigned i = 0; i < ORN_NSEG; i++)
        orn_in_sel[i] = in->sel[i] ? in->sel[i] : runner_ds;
    orn_in_entry = in->entry;
    orn_want_fninit = in->flags & ORN_IN_X87;

    struct itimerval t = { .it_interval = { 0, 0 }, .it_value = { 1, 0 } };
    setitimer(ITIMER_REAL, &t, NULL);
    orn_run_native();

    /* A signal from the entry sequence itself means a selector could not be loaded. */
    if (out->status == ORN_ST_DONE && out->eip >= (uint32_t)(uintptr_t)orn_run_native &&
        out->eip < (uint32_t)(uintptr_t)orn_run_native_end)
        out->status = ORN_ST_SETUP;
    memcpy(s->out.data, (void *)(uintptr_t)ORN_DATA_BASE, ORN_DATA_SIZE);
    publish(s);
}

/* What LAR and LSL say about every GDT selector: enough for the parent to mirror the
 * descriptors a CPL 3 program can observe. */
static void probe_gdt(struct orn_shm *shm)
{
    shm->gdt_ok = 0;
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t sel = i << 3 | 3, ar = 0, lim = 0;
        uint8_t ok_ar = 0, ok_lim = 0;
        __asm__ volatile("lar %2, %0\n\tsetz %1" : "+r"(ar), "=q"(ok_ar) : "r"(sel) : "cc");
        __asm__ volatile("lsl %2, %0\n\tsetz %1" : "+r"(lim), "=q"(ok_lim) : "r"(sel) : "cc");
        shm->gdt_lar[i] = ar;
        shm->gdt_lsl[i] = lim;
        if (ok_ar && ok_lim)
            shm->gdt_ok |= (uint16_t)(1u << i);
    }
}

static int read_full(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int parse_fd(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 0 || v > 1024)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    int shm_fd = -1, sock_fd = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--shm-fd") == 0)
            shm_fd = parse_fd(argv[i + 1]);
        else if (strcmp(argv[i], "--sock-fd") == 0)
            sock_fd = parse_fd(argv[i + 1]);
    }
    if (shm_fd < 0 || sock_fd < 0) {
        fprintf(stderr, "usage: cloister-oracle-native --shm-fd N --sock-fd M\n"
                        "(started by cloister-oracle; see tests/oracle/README.md)\n");
        return 2;
    }
    struct stat st;
    if (fstat(shm_fd, &st) != 0 || (size_t)st.st_size < sizeof(struct orn_shm)) {
        errno = EINVAL;
        die("shared region too small");
    }
    struct orn_shm *shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
    if (shm == MAP_FAILED)
        die("mmap shared region");
    if (shm->magic != ORN_MAGIC) {
        errno = EINVAL;
        die("bad magic in shared region");
    }
    setup_layout();
    __asm__ volatile("movw %%cs, %0" : "=r"(runner_cs));
    __asm__ volatile("movw %%ds, %0" : "=r"(runner_ds));
    __asm__ volatile("movw %%fs, %0" : "=r"(orn_runner_fs));
    __asm__ volatile("movw %%gs, %0" : "=r"(orn_runner_gs));
    shm->user_cs = runner_cs;
    shm->user_ds = runner_ds;
    shm->user_fs = orn_runner_fs;
    shm->user_gs = orn_runner_gs;
    probe_gdt(shm);
    install_handlers();
    uint32_t hello = ORN_MAGIC;
    if (write_full(sock_fd, &hello, sizeof hello) != 0)
        return 0;

    for (;;) {
        uint32_t count;
        if (read_full(sock_fd, &count, sizeof count) != 0)
            return 0; /* parent gone */
        if (count > ORN_BATCH)
            count = 0;
        /* Slots already answered are skipped: after a crash the parent resubmits the batch. */
        for (uint32_t i = 0; i < count; i++)
            if (__atomic_load_n(&shm->slot[i].out.status, __ATOMIC_ACQUIRE) == ORN_ST_EMPTY)
                run_case(&shm->slot[i]);
        struct itimerval off = { { 0, 0 }, { 0, 0 } };
        setitimer(ITIMER_REAL, &off, NULL);
        if (write_full(sock_fd, &count, sizeof count) != 0)
            return 0;
    }
}
