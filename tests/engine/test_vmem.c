/*
 * test_vmem.c - guest memory (vcpu/vmem.c): identity translation with paging off, RAM bounds,
 * MMIO and unbacked physical space, the translated-code hook before stores, page-crossing
 * accesses that fault without writing; and the paging-on reference walk (4 KiB and PSE 4 MiB
 * pages, U/S, R/W with CR0.WP, accessed/dirty bits, #PF error codes and CR2 through the engine).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "vcpu/cpu.h"

#define PD 0x80000u
#define PT 0x81000u

static void test_paging_off_ram_and_mmio(void **state)
{
    struct tenv *t = *state;
    struct vmem *m = &t->mem;
    struct vmem_fault f;
    uint32_t phys;
    uint8_t *host;

    assert_int_equal(vmem_translate(m, 0x1234, VMEM_READ, false, &phys, &host, &f), 0);
    assert_int_equal(phys, 0x1234);
    assert_ptr_equal(host, t->ram + 0x1234);
    assert_int_equal(vmem_translate(m, TENV_RAM, VMEM_WRITE, true, &phys, &host, &f), 0);
    assert_int_equal(phys, TENV_RAM);
    assert_null(host);

    /* a read straddling the end of RAM: RAM part copied, the rest as aligned device reads */
    put32(t, TENV_RAM - 4, 0x44332211);
    t->mmio_value = 0xA0B0C0D0;
    uint8_t buf[8];
    assert_int_equal(vmem_read(m, TENV_RAM - 2, buf, 7, false, &f), 0);
    assert_int_equal(buf[0], 0x33);
    assert_int_equal(buf[1], 0x44);
    assert_int_equal(t->n_mmio, 2);
    assert_int_equal(t->mmio[0].phys, TENV_RAM);
    assert_int_equal(t->mmio[0].size, 4);
    assert_int_equal(t->mmio[1].phys, TENV_RAM + 4);
    assert_int_equal(t->mmio[1].size, 1);
    assert_int_equal(buf[2], 0xD0);
    assert_int_equal(buf[5], 0xA0);
    assert_int_equal(buf[6], 0xD0);

    /* an unaligned device write splits into naturally aligned pieces */
    t->n_mmio = 0;
    uint8_t w[4] = { 1, 2, 3, 4 };
    assert_int_equal(vmem_write(m, 0xFEC00001, w, 4, false, &f), 0);
    assert_int_equal(t->n_mmio, 3);
    assert_int_equal(t->mmio[0].size, 1);
    assert_int_equal(t->mmio[0].value, 1);
    assert_int_equal(t->mmio[1].phys, 0xFEC00002);
    assert_int_equal(t->mmio[1].size, 2);
    assert_int_equal(t->mmio[1].value, 0x0302);
    assert_int_equal(t->mmio[2].value, 4);
    assert_true(t->mmio[2].write);

    /* with no device callbacks, unbacked space reads all-ones and ignores writes */
    m->mmio_read = NULL;
    m->mmio_write = NULL;
    uint32_t v = 0;
    assert_int_equal(vmem_read(m, 0xE0000000, &v, 4, false, &f), 0);
    assert_int_equal(v, 0xFFFFFFFF);
    assert_int_equal(vmem_write(m, 0xE0000000, &v, 4, false, &f), 0);
    assert_int_equal(vmem_phys_read32(m, 0xE0000002), 0xFFFFFFFF);

    /* physical 32-bit accesses */
    vmem_phys_write32(m, 0x3000, 0xDEADBEEF);
    assert_int_equal(get32(t, 0x3000), 0xDEADBEEF);
    assert_int_equal(vmem_phys_read32(m, 0x3000), 0xDEADBEEF);
    put32(t, TENV_RAM - 4, 0x00000000);
    assert_int_equal(vmem_phys_read32(m, TENV_RAM - 2), 0xFFFF0000);
}

static void test_code_hook(void **state)
{
    struct tenv *t = *state;
    struct vmem_fault f;
    t->ram[0x5FFF] = 0x11;
    t->ram[0x6000] = 0x22;
    t->code_bitmap[0x6000 / VMEM_PAGE / 8] |= 1u << ((0x6000 / VMEM_PAGE) % 8);
    /* a store to an unmarked page does not call the hook */
    uint32_t v = 0x99;
    assert_int_equal(vmem_write(&t->mem, 0x5FFF, &v, 1, false, &f), 0);
    assert_int_equal(t->n_code_writes, 0);
    /* a store crossing into the marked page calls it once, for that page, before storing */
    v = 0xAABBCCDD;
    assert_int_equal(vmem_write(&t->mem, 0x5FFE, &v, 4, false, &f), 0);
    assert_int_equal(t->n_code_writes, 1);
    assert_int_equal(t->code_write_phys, 0x6000);
    assert_int_equal(t->code_write_size, 2);
    assert_int_equal(t->ram_at_code_write, 0x22);
    assert_int_equal(get32(t, 0x5FFE), 0xAABBCCDD);
    /* through the engine, and through a physical write */
    struct ir_insn in = ir_mr(IR_MOV, 2, 0x6100, IR_EAX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->n_code_writes, 2);
    vmem_phys_write32(&t->mem, 0x6200, 5);
    assert_int_equal(t->n_code_writes, 6); /* one per byte */
}

/* Page tables: 0x400000 -> 0x10000 rw user, 0x401000 -> 0x11000 read-only user,
 * 0x402000 not present, 0x403000 -> 0x13000 supervisor-only; PDE 2 is a 4 MiB page at 0. */
static void setup_paging(struct tenv *t)
{
    memset(t->ram + PD, 0, 0x2000);
    put32(t, PD + 1 * 4, PT | 0x7);
    put32(t, PD + 2 * 4, 0x00000000 | 0x80 | 0x7);
    put32(t, PT + 0 * 4, 0x10000 | 0x7);
    put32(t, PT + 1 * 4, 0x11000 | 0x5);
    put32(t, PT + 3 * 4, 0x13000 | 0x3);
    t->cpu.cr3 = PD;
    t->cpu.cr4 |= CPU_CR4_PSE;
    t->cpu.cr0 |= CPU_CR0_PG;
}

static int xlate(struct tenv *t, uint32_t lin, enum vmem_kind k, bool user, uint32_t *phys,
                 struct vmem_fault *f)
{
    uint8_t *host;
    return vmem_translate(&t->mem, lin, k, user, phys, &host, f);
}

static void test_paging_walk(void **state)
{
    struct tenv *t = *state;
    struct vmem_fault f;
    uint32_t phys;
    setup_paging(t);

    assert_int_equal(xlate(t, 0x400123, VMEM_READ, true, &phys, &f), 0);
    assert_int_equal(phys, 0x10123);
    /* accessed set on both levels, dirty only after a write */
    assert_true(get32(t, PD + 4) & 0x20);
    assert_int_equal(get32(t, PT) & 0x60, 0x20);
    assert_int_equal(xlate(t, 0x400123, VMEM_WRITE, true, &phys, &f), 0);
    assert_int_equal(get32(t, PT) & 0x60, 0x60);

    /* 4 MiB page with PSE */
    assert_int_equal(xlate(t, 0x812345, VMEM_READ, false, &phys, &f), 0);
    assert_int_equal(phys, 0x012345);
    assert_int_equal(xlate(t, 0x812345, VMEM_WRITE, false, &phys, &f), 0);
    assert_int_equal(get32(t, PD + 8) & 0x60, 0x60);

    /* not present: error code without P, with W for writes and U for user */
    assert_int_equal(xlate(t, 0x402000, VMEM_READ, false, &phys, &f), -1);
    assert_int_equal(f.vector, CPU_PF_VEC);
    assert_int_equal(f.error, 0);
    assert_int_equal(f.cr2, 0x402000);
    assert_int_equal(xlate(t, 0x402FFF, VMEM_WRITE, true, &phys, &f), -1);
    assert_int_equal(f.error, 6);
    assert_int_equal(xlate(t, 0xC00000, VMEM_READ, false, &phys, &f), -1); /* PDE not present */
    assert_int_equal(f.error, 0);

    /* protection: user to a supervisor page, user write to read-only */
    assert_int_equal(xlate(t, 0x403000, VMEM_READ, true, &phys, &f), -1);
    assert_int_equal(f.error, 5);
    assert_int_equal(xlate(t, 0x403000, VMEM_WRITE, false, &phys, &f), 0);
    assert_int_equal(xlate(t, 0x401000, VMEM_WRITE, true, &phys, &f), -1);
    assert_int_equal(f.error, 7);
    assert_int_equal(get32(t, PT + 4) & 0x40, 0); /* no dirty bit on a fault */
    /* a supervisor write to a read-only page succeeds unless CR0.WP */
    assert_int_equal(xlate(t, 0x401000, VMEM_WRITE, false, &phys, &f), 0);
    t->cpu.cr0 |= CPU_CR0_WP;
    assert_int_equal(xlate(t, 0x401000, VMEM_WRITE, false, &phys, &f), -1);
    assert_int_equal(f.error, 3);
    /* a read-only PDE restricts the whole table */
    put32(t, PD + 4, PT | 0x5);
    assert_int_equal(xlate(t, 0x400000, VMEM_WRITE, true, &phys, &f), -1);
    assert_int_equal(f.error, 7);
    /* without CR4.PSE the PS bit is ignored: PDE 2 points at a page table at 0 */
    t->cpu.cr4 &= ~CPU_CR4_PSE;
    put32(t, 0x0, 0x12000 | 0x3);
    assert_int_equal(xlate(t, 0x800456, VMEM_READ, false, &phys, &f), 0);
    assert_int_equal(phys, 0x12456);
    /* a page table entry outside RAM reads as all-ones from the device space */
    put32(t, PD + 3 * 4, 0xF0000000 | 0x7);
    t->mmio_value = 0;
    assert_int_equal(xlate(t, 0xC00000, VMEM_READ, false, &phys, &f), -1);
}

static void test_paging_engine(void **state)
{
    struct tenv *t = *state;
    setup_paging(t);
    t->cpu.cpl = 3;
    /* a user-mode MOV through the walk */
    t->cpu.r[IR_EAX] = 0x12345678;
    struct ir_insn in = ir_mr(IR_MOV, 4, 0x400010, IR_EAX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x10010), 0x12345678);
    /* #PF reports the error code and sets CR2 */
    in = ir_mr(IR_MOV, 4, 0x401010, IR_EAX);
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &in, CPU_PF_VEC, 1, 7);
    assert_int_equal(t->cpu.cr2, 0x401010);
    assert_int_equal(t->cpu.eip, 0x1000);
    /* a store crossing from a writable page into a non-present one writes nothing */
    put32(t, 0x10FFC, 0);
    t->cpu.cpl = 0;
    put32(t, PT + 1 * 4, 0x11000 | 0x7);
    put32(t, PT + 2 * 4, 0); /* 0x402000 not present */
    in = ir_mr(IR_MOV, 4, 0x401FFE, IR_EAX);
    run_expect_exc(t, &in, CPU_PF_VEC, 1, 2);
    assert_int_equal(t->cpu.cr2, 0x402000);
    assert_int_equal(get32(t, 0x11FFC), 0);
    /* and a page-crossing read that succeeds joins the two frames */
    put32(t, PT + 2 * 4, 0x20000 | 0x7);
    put32(t, 0x11FFC, 0xBBAA0000);
    put32(t, 0x20000, 0x0000DDCC);
    in = ir_rm(IR_MOV, 4, IR_EDX, 0x401FFE);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0xDDCCBBAA);
}

/* Read-modify-write destinations are read with write intent: a #PF carries W, and a page-
 * crossing operand reports the second page's first byte in CR2. */
static void test_rmw_write_intent(void **state)
{
    struct tenv *t = *state;
    setup_paging(t);
    t->cpu.cpl = 3;
    t->cpu.r[IR_EAX] = 1;
    /* 0x402000 is not present */
    struct ir_insn add = ir_mr(IR_ADD, 4, 0x402010, IR_EAX);
    run_expect_exc(t, &add, CPU_PF_VEC, 1, 6);
    struct ir_insn cmp = ir_mr(IR_CMP, 4, 0x402010, IR_EAX);
    run_expect_exc(t, &cmp, CPU_PF_VEC, 1, 4);
    /* a read-only page: the write-intent read faults with P|W|U before anything changes */
    put32(t, 0x11010, 41);
    struct ir_insn inc = ir_make(IR_INC, 4);
    inc.opd[0] = o_mem(4);
    ir_set_mem(&inc, IR_DS, IR_NOREG, IR_NOREG, 0, 0x401010);
    run_expect_exc(t, &inc, CPU_PF_VEC, 1, 7);
    assert_int_equal(get32(t, 0x11010), 41);
    /* crossing from a present into a missing page: CR2 is the boundary */
    put32(t, PT + 1 * 4, 0x11000 | 0x7);
    struct ir_insn xadd = ir_mr(IR_XADD, 4, 0x401FFE, IR_EAX);
    run_expect_exc(t, &xadd, CPU_PF_VEC, 1, 6);
    assert_int_equal(t->cpu.cr2, 0x402000);
    /* BTS on a bit string reaching into the missing page */
    t->cpu.r[IR_ECX] = 0x1000 * 8 + 3;
    struct ir_insn bts = ir_make(IR_BTS, 4);
    bts.opd[0] = o_mem(4);
    bts.opd[1] = o_reg(IR_ECX, 4);
    ir_set_mem(&bts, IR_DS, IR_NOREG, IR_NOREG, 0, 0x401000);
    run_expect_exc(t, &bts, CPU_PF_VEC, 1, 6);
    assert_int_equal(t->cpu.cr2, 0x402000);
    /* a segment-limit violation wins over the #PF the part inside the limit would raise */
    t->cpu.seg[IR_DS].base = 0x401000;
    t->cpu.seg[IR_DS].limit = 0xFFF;
    t->cpu.cr2 = 0;
    add = ir_mr(IR_ADD, 4, 0xFFE, IR_EAX);
    run_expect_exc(t, &add, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.cr2, 0);
}

/* ENTER probes the new stack top for writing before it commits anything. */
static void test_enter_probes_stack(void **state)
{
    struct tenv *t = *state;
    setup_paging(t);
    t->cpu.cpl = 3;
    t->cpu.r[IR_ESP] = 0x400100; /* the page below (0x3FF000) has no table */
    t->cpu.r[IR_EBP] = 0x1234;
    struct ir_insn in = ir_make(IR_ENTER, 4);
    in.imm = 0x200;
    run_expect_exc(t, &in, CPU_PF_VEC, 1, 6);
    assert_int_equal(t->cpu.cr2, 0x400100 - 4 - 0x200);
    assert_int_equal(t->cpu.r[IR_ESP], 0x400100);
    assert_int_equal(t->cpu.r[IR_EBP], 0x1234);
    in.imm = 0x80;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x400100 - 4 - 0x80);
    assert_int_equal(t->cpu.r[IR_EBP], 0x400100 - 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_paging_off_ram_and_mmio),
        TENV_TEST(test_code_hook),
        TENV_TEST(test_paging_walk),
        TENV_TEST(test_paging_engine),
        TENV_TEST(test_rmw_write_intent),
        TENV_TEST(test_enter_probes_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
