/*
 * native_main.c - runs the workload natively as 32-bit user code and prints its checksum and
 * the time it took: `cloister-bench-cpu-native ITERATIONS` -> "CHECKSUM NANOSECONDS".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint32_t workload(uint32_t iterations, uint8_t *scratch);

static uint8_t scratch[65536] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000;
    struct timespec a, b;
    workload(1, scratch); /* warm up */
    for (unsigned i = 0; i < sizeof scratch; i++)
        scratch[i] = (uint8_t)i;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint32_t sum = workload(n, scratch);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    printf("%u %lld\n", sum, ns);
    return 0;
}
