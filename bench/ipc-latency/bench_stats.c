/*
 * bench_stats.c - see bench_stats.h. The p99 is the smallest sample that at least 99% of the
 * samples do not exceed (nearest-rank), so it is always a measured value.
 */
#include "bench/ipc-latency/bench_stats.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void lat_summarize(uint64_t *ns, size_t n, struct lat_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    qsort(ns, n, sizeof *ns, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)ns[i];
    size_t rank99 = (n * 99 + 99) / 100; /* ceil(0.99 n), 1-based */
    out->n = n;
    out->median_us = (n % 2 ? (double)ns[n / 2] : ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2) / 1e3;
    out->p99_us = (double)ns[rank99 - 1] / 1e3;
    out->mean_us = sum / (double)n / 1e3;
    out->min_us = (double)ns[0] / 1e3;
    out->max_us = (double)ns[n - 1] / 1e3;
}
