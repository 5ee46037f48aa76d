/*
 * bench_stats.h - latency samples to summary numbers (median, p99, mean), in microseconds.
 */
#ifndef CLOISTER_BENCH_IPC_STATS_H
#define CLOISTER_BENCH_IPC_STATS_H

#include <stddef.h>
#include <stdint.h>

struct lat_stats {
    size_t n;
    double median_us, p99_us, mean_us, min_us, max_us;
};

/* Sorts `ns` in place. n == 0 gives all zeros. */
void lat_summarize(uint64_t *ns, size_t n, struct lat_stats *out);

#endif
