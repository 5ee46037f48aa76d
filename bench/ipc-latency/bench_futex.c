/*
 * bench_futex.c - the two futex calls of the raw futex baseline. Deliberately plain: no
 * spinning and no "is anyone sleeping" flag, so the baseline is exactly one wake and one
 * wait per direction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench/ipc-latency/bench_proto.h"

int bench_futex_wait(uint32_t *word, uint32_t val)
{
    if (syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0) < 0)
        return -errno;
    return 0;
}

void bench_futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}
