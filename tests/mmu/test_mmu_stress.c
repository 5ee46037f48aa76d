/*
 * test_mmu_stress.c - randomized differential stress of the shadow MMU (tests/mmu/mmu_sim.c):
 * random guest tables and long random sequences of accesses through the shadow, stores to page
 * tables and code, INVLPG, CR3 switches, CR0.WP / CR4.PSE / CR4.PGE changes, paging off,
 * physical stores and flushes. Outcomes and RAM are compared with a TLB-less reference after
 * every operation; the invariant checker runs after every operation (every 16th in the long
 * runs). Several pool and root-cache sizes, so eviction and pool exhaustion happen often; each
 * test asserts that every path (hits, faults, tracked and direct stores, drops) was exercised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "tests/mmu/mmu_sim.h"
#include "vcpu/cpu.h"

struct stress_totals {
    uint64_t accesses, page_faults, hits, tracked_writes, direct_writes, evicted, dropped, fills;
};

static void run(uint64_t seed, uint32_t ram_pages, uint32_t region_pages, unsigned roots,
                unsigned ops, unsigned check_every, struct stress_totals *tot)
{
    struct sim s;
    if (sim_init(&s, ram_pages, region_pages, roots) != 0)
        fail_msg("sim_init: %s", s.msg);
    s.check_every = check_every;
    sim_fill_tables(&s, seed);
    if (sim_set_cr(&s, CPU_CR0_PG | CPU_CR0_PE, 0, CPU_CR4_PSE | CPU_CR4_PGE) != 0)
        fail_msg("seed %llu: %s", (unsigned long long)seed, s.msg);
    uint64_t r = seed;
    for (unsigned i = 0; i < ops; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        if (sim_random_op(&s, r ^ (r >> 29)) != 0)
            fail_msg("seed %llu op %u: %s", (unsigned long long)seed, i, s.msg);
    }
    tot->accesses += s.accesses;
    tot->page_faults += s.page_faults;
    tot->hits += s.shadow_hits;
    tot->tracked_writes += s.tracked_writes;
    tot->direct_writes += s.direct_writes;
    tot->evicted += s.mmu.stats.evicted_roots;
    tot->dropped += s.mmu.stats.dropped_entries;
    tot->fills += s.mmu.stats.fills;
    sim_fini(&s);
}

static void expect_coverage(const struct stress_totals *t)
{
    print_message("accesses %llu faults %llu hits %llu tracked %llu direct %llu evicted %llu "
                  "dropped %llu fills %llu\n", (unsigned long long)t->accesses,
                  (unsigned long long)t->page_faults, (unsigned long long)t->hits,
                  (unsigned long long)t->tracked_writes,
                  (unsigned long long)t->direct_writes, (unsigned long long)t->evicted,
                  (unsigned long long)t->dropped, (unsigned long long)t->fills);
    /* the run is only worth something if every path was exercised */
    assert_true(t->accesses > 1000);
    assert_true(t->page_faults > 100);
    assert_true(t->hits > 200);
    assert_true(t->tracked_writes > 50);
    assert_true(t->direct_writes > 50);
    assert_true(t->dropped > 50);
    assert_true(t->fills > 500);
}

static void test_stress_small_pool(void **state)
{
    struct stress_totals t = {0};
    for (uint64_t seed = 1; seed <= 8; seed++)
        run(seed, 24, 8, 3, 5000, 1, &t);
    expect_coverage(&t);
    assert_true(t.evicted > 10);
}

static void test_stress_many_roots(void **state)
{
    struct stress_totals t = {0};
    for (uint64_t seed = 100; seed < 104; seed++)
        run(seed, 32, 64, 16, 5000, 1, &t);
    expect_coverage(&t);
}

static void test_stress_tiny_pool(void **state)
{
    struct stress_totals t = {0};
    for (uint64_t seed = 200; seed < 208; seed++)
        run(seed, 16, 3, 0, 4000, 1, &t);
    expect_coverage(&t);
}

/* Long runs: RAM is still compared after every operation, the checker every 16th. */
static void test_stress_long_runs(void **state)
{
    struct stress_totals t = {0};
    for (uint64_t seed = 300; seed < 304; seed++)
        run(seed, 24, 12, 4, 40000, 16, &t);
    expect_coverage(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_small_pool),
        cmocka_unit_test(test_stress_many_roots),
        cmocka_unit_test(test_stress_tiny_pool),
        cmocka_unit_test(test_stress_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
