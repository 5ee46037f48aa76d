/*
 * exec_data.c - data movement (MOV family, exchanges, conversions, CMOV/SETcc, XLAT), the stack (PUSH/POP in every form, PUSHA/POPA, PUSHF/POPF,
 * ENTER/LEAVE), near control transfer, and the string instructions with their REP forms.
 *
 * Trusts: the instruction passed ir_insn_valid(). Every handler computes into locals, performs
 * the accesses that can fault, and commits registers and EIP last; stack helpers never move ESP
 * on a fault. REP loops commit per iteration, so a fault reports the state before the faulting
 * iteration, and stop after ENG_REP_CAP iterations with EIP unchanged (see exec.h).
 */
#include "vcpu/exec.h"

static int finish(struct engine *e, const struct ir_insn *in)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return ENG_OK;
}

static uint32_t load_le(const uint8_t *b, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static void store_le(uint8_t *b, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static int mem_read(struct engine *e, unsigned seg, uint32_t off, uint32_t *v, unsigned size)
{
    uint8_t b[4];
    int rc = seg_read(e, seg, off, b, size);
    if (rc == 0)
        *v = load_le(b, size);
    return rc;
}

static int mem_write(struct engine *e, unsigned seg, uint32_t off, uint32_t v, unsigned size)
{
    uint8_t b[4];
    store_le(b, v, size);
    return seg_write(e, seg, off, b, size);
}

static uint32_t sext(uint32_t v, unsigned size)
{
    uint32_t sign = size_sign(size);
    v &= size_mask(size);
    return (v ^ sign) - sign;
}

/* ---- stack ---- */

/* ESP after adding `delta` on the current stack (only SP moves on a 16-bit stack). */
static uint32_t esp_add(const struct cpu_state *cpu, uint32_t esp, uint32_t delta)
{
    uint32_t m = stack_mask(cpu);
    return (esp & ~m) | ((esp + delta) & m);
}

/* Read `size` bytes at SS:(ESP + depth) without moving ESP. */
static int stack_peek(struct engine *e, uint32_t depth, uint32_t *value, unsigned size)
{
    struct cpu_state *cpu = e->cpu;
    return mem_read(e, IR_SS, (cpu->r[IR_ESP] + depth) & stack_mask(cpu), value, size);
}

int stack_push(struct engine *e, uint32_t value, unsigned size)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t esp = esp_add(cpu, cpu->r[IR_ESP], (uint32_t)-size);
    int rc = mem_write(e, IR_SS, esp & stack_mask(cpu), value, size);
    if (rc == 0)
        cpu->r[IR_ESP] = esp;
    return rc;
}

int stack_pop(struct engine *e, uint32_t *value, unsigned size)
{
    int rc = stack_peek(e, 0, value, size);
    if (rc == 0)
        e->cpu->r[IR_ESP] = esp_add(e->cpu, e->cpu->r[IR_ESP], size);
    return rc;
}

static int data_push(struct engine *e, const struct ir_insn *in)
{
    unsigned size = in->osize;
    uint32_t v;
    int rc;

    /* PUSH ESP pushes the value before the push; a 32-bit push of a segment register writes
     * the selector zero-extended (as the reference host does). */
    if ((rc = opd_read(e, in, 0, &v)))
        return rc;
    if ((rc = stack_push(e, v & size_mask(size), size)))
        return rc;
    return finish(e, in);
}

static int data_pop(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    const struct ir_operand *o = &in->opd[0];
    unsigned size = in->osize;
    uint32_t v, new_esp;
    int rc;

    if ((rc = stack_peek(e, 0, &v, size)))
        return rc;
    new_esp = esp_add(cpu, cpu->r[IR_ESP], size);
    switch (o->kind) {
    case IR_OPK_REG:
        cpu->r[IR_ESP] = new_esp;
        reg_put(cpu, o->reg, size, v); /* POP ESP: the popped value wins */
        return finish(e, in);
    case IR_OPK_MEM: {
        /* the address is computed with ESP already incremented */
        uint32_t old_esp = cpu->r[IR_ESP];
        cpu->r[IR_ESP] = new_esp;
        uint32_t ea = eng_ea(cpu, in);
        cpu->r[IR_ESP] = old_esp;
        if ((rc = mem_write(e, in->mem.seg, ea, v, size)))
            return rc;
        cpu->r[IR_ESP] = new_esp;
        return finish(e, in);
    }
    case IR_OPK_SREG:
        if (o->reg == IR_CS)
            return eng_ud(e);
        if ((rc = seg_load(e, o->reg, (uint16_t)v)))
            return rc;
        cpu->r[IR_ESP] = new_esp;
        if (o->reg == IR_SS)
            cpu->inhibit_irq = 1;
        finish(e, in);
        return ENG_END_BLOCK;
    default:
        return eng_ud(e);
    }
}

static int data_pusha(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t m = stack_mask(cpu), esp = cpu->r[IR_ESP];
    int rc;

    /* check every slot before writing any, so that a fault leaves memory untouched too */
    for (unsigned i = 1; i <= 8; i++)
        if ((rc = eng_check_write(e, IR_SS, (esp - i * size) & m, size)))
            return rc;
    for (unsigned i = 0; i < 8; i++) {
        uint32_t v = cpu->r[i] & size_mask(size); /* r[ESP] is still the original value */
        if ((rc = mem_write(e, IR_SS, (esp - (i + 1) * size) & m, v, size)))
            return rc;
    }
    cpu->r[IR_ESP] = esp_add(cpu, esp, (uint32_t)-(8 * size));
    return finish(e, in);
}

static int data_popa(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t v[8];
    int rc;

    for (unsigned i = 0; i < 8; i++)
        if ((rc = stack_peek(e, i * size, &v[i], size)))
            return rc;
    for (unsigned i = 0; i < 8; i++)
        if (7 - i != IR_ESP) /* the stored ESP is skipped */
            reg_put(cpu, 7 - i, size, v[i]);
    cpu->r[IR_ESP] = esp_add(cpu, cpu->r[IR_ESP], 8 * size);
    return finish(e, in);
}

static int data_pushf(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t f = cpu_get_eflags(cpu);
    int rc;

    /* virtual-8086 mode needs IOPL 3 here (VME's virtual flags are not modelled) */
    if ((f & CPU_VM) && (f & CPU_IOPL) != CPU_IOPL)
        return eng_gp0(e);
    if ((rc = stack_push(e, (f & ~(CPU_VM | CPU_RF)) & size_mask(in->osize), in->osize)))
        return rc;
    return finish(e, in);
}

static int data_popf(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t old = cpu_get_eflags(cpu);
    unsigned iopl = (old & CPU_IOPL) >> 12;
    uint32_t v, mask;
    int rc;

    if ((old & CPU_VM) && iopl != 3)
        return eng_gp0(e);
    if ((rc = stack_peek(e, 0, &v, in->osize)))
        return rc;
    mask = CPU_ARITH_FLAGS | CPU_TF | CPU_DF | CPU_NT | CPU_AC | CPU_ID | CPU_IF | CPU_IOPL;
    if (old & CPU_VM)
        mask &= ~CPU_IOPL;
    else if (cpu_pmode(cpu) && cpu->cpl > 0) {
        mask &= ~CPU_IOPL;
        if (cpu->cpl > iopl)
            mask &= ~CPU_IF;
    }
    if (in->osize == 2)
        mask &= 0xFFFF;
    else
        old &= ~CPU_RF; /* a 32-bit POPF clears RF */
    cpu->r[IR_ESP] = esp_add(cpu, cpu->r[IR_ESP], in->osize);
    cpu_set_eflags(cpu, old, 0xFFFFFFFFu);
    cpu_set_eflags(cpu, v, mask);
    cpu->eip = eng_next_eip(cpu, in);
    uint32_t changed = (old ^ cpu->eflags) & (CPU_TF | CPU_IF | CPU_IOPL | CPU_NT | CPU_AC | CPU_ID);
    return changed ? ENG_END_BLOCK : ENG_OK;
}

static int data_enter(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t m = stack_mask(cpu);
    uint32_t frame = in->imm & 0xFFFF, level = in->imm2 & 0x1F;
    uint32_t esp = cpu->r[IR_ESP], ebp = cpu->r[IR_EBP], v;
    int rc;

    /* everything runs on local copies; registers change only at the end */
    esp = (esp & ~m) | ((esp - size) & m);
    if ((rc = mem_write(e, IR_SS, esp & m, ebp & size_mask(size), size)))
        return rc;
    uint32_t frame_temp = esp & m;
    if (level > 0) {
        for (uint32_t i = 1; i < level; i++) {
            ebp = (ebp & ~m) | ((ebp - size) & m);
            if ((rc = mem_read(e, IR_SS, ebp & m, &v, size)))
                return rc;
            esp = (esp & ~m) | ((esp - size) & m);
            if ((rc = mem_write(e, IR_SS, esp & m, v, size)))
                return rc;
        }
        esp = (esp & ~m) | ((esp - size) & m);
        if ((rc = mem_write(e, IR_SS, esp & m, frame_temp, size)))
            return rc;
    }
    /* the processor probes the new stack top for writing (the reference host faults there) */
    uint32_t new_esp = (esp & ~m) | ((esp - frame) & m);
    if (frame != 0 && (rc = eng_check_write(e, IR_SS, new_esp & m, 1)))
        return rc;
    /* SDM: BP <- FrameTemp[15:0] with a 16-bit operand size, else EBP <- FrameTemp (which is
     * SP, zero-extended, on a 16-bit stack) */
    if (size == 2)
        cpu->r[IR_EBP] = (ebp & ~0xFFFFu) | (frame_temp & 0xFFFF);
    else
        cpu->r[IR_EBP] = frame_temp;
    cpu->r[IR_ESP] = new_esp;
    return finish(e, in);
}

static int data_leave(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t m = stack_mask(cpu);
    uint32_t esp = (cpu->r[IR_ESP] & ~m) | (cpu->r[IR_EBP] & m);
    uint32_t v;
    int rc;

    if ((rc = mem_read(e, IR_SS, esp & m, &v, in->osize)))
        return rc;
    cpu->r[IR_ESP] = (esp & ~m) | ((esp + in->osize) & m);
    reg_put(cpu, IR_EBP, in->osize, v);
    return finish(e, in);
}

/* ---- moves ---- */

static int data_mov(struct engine *e, const struct ir_insn *in)
{
    uint32_t v;
    int rc;

    if ((rc = opd_read(e, in, 1, &v)))
        return rc;
    switch (in->op) {
    case IR_MOVZX: v &= size_mask(in->opd[1].size); break;
    case IR_MOVSX: v = sext(v, in->opd[1].size); break;
    default: break;
    }
    if ((rc = opd_write(e, in, 0, v & size_mask(in->opd[0].size))))
        return rc;
    return finish(e, in);
}

static int data_xchg(struct engine *e, const struct ir_insn *in)
{
    uint32_t a, b;
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &a)) || (rc = opd_read_rmw(e, in, 1, &b)))
        return rc;
    /* write the memory side first: it is the only one that can fault */
    unsigned first = in->opd[1].kind == IR_OPK_MEM ? 1 : 0;
    if ((rc = opd_write(e, in, first, first ? a : b)))
        return rc;
    opd_write(e, in, 1 - first, first ? b : a);
    return finish(e, in);
}

static int data_xadd(struct engine *e, const struct ir_insn *in)
{
    unsigned size = in->osize;
    uint32_t d, s;
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &d)) || (rc = opd_read(e, in, 1, &s)))
        return rc;
    uint32_t sum = (d + s) & size_mask(size);
    if (in->opd[0].kind == IR_OPK_MEM) {
        if ((rc = opd_write(e, in, 0, sum)))
            return rc;
        opd_write(e, in, 1, d);
    } else {
        /* register form: SRC <- DEST, then DEST <- sum (so XADD r,r leaves the sum) */
        opd_write(e, in, 1, d);
        opd_write(e, in, 0, sum);
    }
    flags_lazy(e->cpu, CC_OP_ADD, size, sum, d, s);
    return finish(e, in);
}

static int data_cmpxchg(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t d, s, acc = reg_get(cpu, IR_EAX, size);
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &d)) || (rc = opd_read(e, in, 1, &s)))
        return rc;
    bool equal = acc == d;
    /* the destination is always written (with its old value when unequal), like the bus cycle */
    if ((rc = opd_write(e, in, 0, equal ? s : d)))
        return rc;
    if (!equal)
        reg_put(cpu, IR_EAX, size, d);
    flags_lazy(cpu, CC_OP_SUB, size, (acc - d) & size_mask(size), acc, d);
    return finish(e, in);
}

static int data_cmpxchg8b(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t ea = eng_ea(cpu, in);
    uint8_t b[8];
    int rc;

    if ((rc = eng_check_write(e, in->mem.seg, ea, 8)) || (rc = seg_read(e, in->mem.seg, ea, b, 8)))
        return rc;
    uint32_t lo = load_le(b, 4), hi = load_le(b + 4, 4);
    bool equal = lo == cpu->r[IR_EAX] && hi == cpu->r[IR_EDX];
    if (equal) {
        store_le(b, cpu->r[IR_EBX], 4);
        store_le(b + 4, cpu->r[IR_ECX], 4);
    }
    if ((rc = seg_write(e, in->mem.seg, ea, b, 8)))
        return rc;
    if (!equal) {
        cpu->r[IR_EAX] = lo;
        cpu->r[IR_EDX] = hi;
    }
    flags_set(cpu, CPU_ZF, equal ? CPU_ZF : 0);
    return finish(e, in);
}

static int data_misc(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t v;
    int rc;

    switch (in->op) {
    case IR_LEA:
        reg_put(cpu, in->opd[0].reg, size, eng_ea(cpu, in));
        break;
    case IR_CBW:
        v = reg_get(cpu, IR_EAX, size / 2);
        reg_put(cpu, IR_EAX, size, sext(v, size / 2));
        break;
    case IR_CWD:
        v = reg_get(cpu, IR_EAX, size);
        reg_put(cpu, IR_EDX, size, (v & size_sign(size)) ? 0xFFFFFFFFu : 0);
        break;
    case IR_BSWAP:
        v = cpu->r[in->opd[0].reg];
        if (size == 4)
            cpu->r[in->opd[0].reg] = __builtin_bswap32(v);
        else
            reg_put(cpu, in->opd[0].reg, 2, 0); /* the 16-bit form clears the word on the host */
        break;
    case IR_CMOV:
        /* the source is read (and may fault) whether or not the condition holds */
        if ((rc = opd_read(e, in, 1, &v)))
            return rc;
        if (eng_cond(cpu, in->cond))
            reg_put(cpu, in->opd[0].reg, size, v);
        break;
    case IR_SETCC:
        if ((rc = opd_write(e, in, 0, eng_cond(cpu, in->cond) ? 1 : 0)))
            return rc;
        break;
    case IR_XLAT: {
        uint32_t addr = reg_get(cpu, IR_EBX, in->asize) + (cpu->r[IR_EAX] & 0xFF);
        if (in->asize == 2)
            addr &= 0xFFFF;
        if ((rc = mem_read(e, in->mem.seg, addr, &v, 1)))
            return rc;
        reg_put(cpu, IR_EAX, 1, v);
        break;
    }
    default: /* NOP: hint forms never touch their memory operand */
        break;
    }
    return finish(e, in);
}

/* ---- near control transfer ---- */

static int data_branch(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t target, count;
    bool taken;
    int rc;

    switch (in->op) {
    case IR_JMP:
        return eng_branch(e, in->imm);
    case IR_JCC:
        return eng_cond(cpu, in->cond) ? eng_branch(e, in->imm) : finish(e, in);
    case IR_JCXZ:
        return reg_get(cpu, IR_ECX, in->asize) == 0 ? eng_branch(e, in->imm) : finish(e, in);
    case IR_JMP_IND:
        if ((rc = opd_read(e, in, 0, &target)))
            return rc;
        return eng_branch(e, target & size_mask(in->osize));
    default: /* LOOP, LOOPE, LOOPNE */
        count = (reg_get(cpu, IR_ECX, in->asize) - 1) & size_mask(in->asize);
        taken = count != 0;
        if (in->op == IR_LOOPE)
            taken = taken && eng_cond(cpu, IR_CC_E);
        else if (in->op == IR_LOOPNE)
            taken = taken && !eng_cond(cpu, IR_CC_E);
        if (taken && (rc = eng_branch(e, in->imm)))
            return rc;
        if (!taken)
            finish(e, in);
        reg_put(cpu, IR_ECX, in->asize, count);
        return ENG_OK;
    }
}

static int data_call(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t target;
    int rc;

    if (in->op == IR_CALL) {
        target = in->imm;
    } else {
        /* read the target first: an ESP-based operand sees ESP before the push */
        if ((rc = opd_read(e, in, 0, &target)))
            return rc;
    }
    target &= size_mask(size);
    if (target > cpu->seg[IR_CS].limit)
        return eng_gp0(e);
    if ((rc = stack_push(e, eng_next_eip(cpu, in) & size_mask(size), size)))
        return rc;
    cpu->eip = target;
    return ENG_OK;
}

static int data_ret(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t target;
    int rc;

    if ((rc = stack_peek(e, 0, &target, size)))
        return rc;
    if ((rc = eng_branch(e, target)))
        return rc;
    cpu->r[IR_ESP] = esp_add(cpu, cpu->r[IR_ESP], size + (in->imm & 0xFFFF));
    return ENG_OK;
}

/* ---- string instructions ---- */

static int data_string(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize, asz = in->asize;
    bool rep = in->prefix & (IR_PF_REP | IR_PF_REPNE);
    bool cmp = in->op == IR_CMPS || in->op == IR_SCAS;
    uint32_t step = (cpu->eflags & CPU_DF) ? (uint32_t)-size : size;
    uint32_t src_seg = in->mem.seg;
    int rc;

    if (rep && reg_get(cpu, IR_ECX, asz) == 0)
        return finish(e, in);
    for (uint32_t n = 0;; n++) {
        if (n == ENG_REP_CAP)
            return ENG_OK; /* resume later: EIP still at this instruction */
        uint32_t si = reg_get(cpu, IR_ESI, asz), di = reg_get(cpu, IR_EDI, asz);
        uint32_t a = 0, b = 0;
        switch (in->op) {
        case IR_MOVS:
            if ((rc = mem_read(e, src_seg, si, &a, size)) || (rc = mem_write(e, IR_ES, di, a, size)))
                return rc;
            reg_put(cpu, IR_ESI, asz, si + step);
            reg_put(cpu, IR_EDI, asz, di + step);
            break;
        case IR_CMPS:
            /* The destination operand is read first: when both fault, the processor (and
             * QEMU) report ES:[EDI]. */
            if ((rc = mem_read(e, IR_ES, di, &b, size)) || (rc = mem_read(e, src_seg, si, &a, size)))
                return rc;
            reg_put(cpu, IR_ESI, asz, si + step);
            reg_put(cpu, IR_EDI, asz, di + step);
            break;
        case IR_STOS:
            if ((rc = mem_write(e, IR_ES, di, reg_get(cpu, IR_EAX, size), size)))
                return rc;
            reg_put(cpu, IR_EDI, asz, di + step);
            break;
        case IR_LODS:
            if ((rc = mem_read(e, src_seg, si, &a, size)))
                return rc;
            reg_put(cpu, IR_EAX, size, a);
            reg_put(cpu, IR_ESI, asz, si + step);
            break;
        default: /* SCAS */
            if ((rc = mem_read(e, IR_ES, di, &b, size)))
                return rc;
            a = reg_get(cpu, IR_EAX, size);
            reg_put(cpu, IR_EDI, asz, di + step);
            break;
        }
        if (cmp)
            flags_lazy(cpu, CC_OP_SUB, size, (a - b) & size_mask(size), a, b);
        if (!rep)
            break;
        uint32_t count = (reg_get(cpu, IR_ECX, asz) - 1) & size_mask(asz);
        reg_put(cpu, IR_ECX, asz, count);
        if (count == 0)
            break;
        if (cmp) {
            bool zf = (a & size_mask(size)) == (b & size_mask(size));
            if ((in->prefix & IR_PF_REP) ? !zf : zf)
                break;
        }
    }
    return finish(e, in);
}

int exec_data(struct engine *e, const struct ir_insn *in)
{
    switch (in->op) {
    case IR_MOV: case IR_MOVZX: case IR_MOVSX:
        return data_mov(e, in);
    case IR_XCHG:
        return data_xchg(e, in);
    case IR_XADD:
        return data_xadd(e, in);
    case IR_CMPXCHG:
        return data_cmpxchg(e, in);
    case IR_CMPXCHG8B:
        return data_cmpxchg8b(e, in);
    case IR_LEA: case IR_CBW: case IR_CWD: case IR_BSWAP: case IR_CMOV: case IR_SETCC:
    case IR_XLAT: case IR_NOP:
        return data_misc(e, in);
    case IR_PUSH:
        return data_push(e, in);
    case IR_POP:
        return data_pop(e, in);
    case IR_PUSHA:
        return data_pusha(e, in);
    case IR_POPA:
        return data_popa(e, in);
    case IR_PUSHF:
        return data_pushf(e, in);
    case IR_POPF:
        return data_popf(e, in);
    case IR_ENTER:
        return data_enter(e, in);
    case IR_LEAVE:
        return data_leave(e, in);
    case IR_JMP: case IR_JCC: case IR_JCXZ: case IR_JMP_IND:
    case IR_LOOP: case IR_LOOPE: case IR_LOOPNE:
        return data_branch(e, in);
    case IR_CALL: case IR_CALL_IND:
        return data_call(e, in);
    case IR_RET:
        return data_ret(e, in);
    case IR_MOVS: case IR_CMPS: case IR_STOS: case IR_LODS: case IR_SCAS:
        return data_string(e, in);
    default:
        return eng_ud(e);
    }
}
