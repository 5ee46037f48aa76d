/*
 * runner.h - run one test kernel image to completion and capture what it printed on COM1:
 * under QEMU's system emulator (a child process, killed by its pid after a timeout) or in
 * cloister in-process (multiboot loader, vCPU run loop, in-process front-end, COM1 emulated by
 * two port callbacks). The output is untrusted text for results.h to parse.
 */
#ifndef CLOISTER_SYSORACLE_RUNNER_H
#define CLOISTER_SYSORACLE_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#define SO_OUTPUT_MAX (64u << 20)
/* The kernel prints a line per case: QEMU spending this much CPU time without printing means
 * the kernel hangs (CPU time, not wall time, so a loaded machine does not look like a hang) */
#define SO_QEMU_IDLE_CPU_MS 1000
#define SO_QEMU_IDLE_MS 15000 /* wall-clock silence that counts as a hang whatever the CPU time */
#define SO_QEMU_DEFAULT_CPU "pentium2,-vme,-mmx,-mtrr,-mca,-mce,-pae,-apic,-pat,-pse36,-fxsr"

enum so_end {
    SO_END_CLEAN = 0,   /* the kernel finished (debug-exit under QEMU, HLT with IF=0 in cloister) */
    SO_END_TRIPLE,      /* triple fault / shutdown */
    SO_END_TIMEOUT,     /* QEMU still running after the timeout; killed */
    SO_END_BUDGET,      /* cloister spent its instruction budget */
    SO_END_HALT,        /* cloister: HLT with IF=1 and no interrupt source */
    SO_END_BAD_BLOCK,   /* cloister: the translator produced a malformed block */
    SO_END_ERROR,       /* could not run at all (see why) */
};

struct so_run {
    char *out;          /* NUL-terminated; malloc'd */
    size_t len;
    enum so_end end;
    int exit_status;    /* QEMU's */
    char why[256];
    double seconds;
    uint64_t insns;     /* cloister */
};

const char *so_end_name(enum so_end e);

/* qemu: program name or path; cpu: -cpu argument. Returns 0, or -1 with run->end = SO_END_ERROR. */
int so_run_qemu(const char *qemu, const char *cpu, const uint8_t *img, size_t size, unsigned timeout_ms,
                struct so_run *run);
int so_run_cloister(const uint8_t *img, size_t size, uint64_t budget, struct so_run *run);
void so_run_free(struct so_run *run);

/* Is `prog` runnable (a path, or found on PATH)? */
int so_have_program(const char *prog);

#endif
