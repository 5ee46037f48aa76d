/* bpf_eval.c: see bpf_eval.h. Follows the kernel's classic-BPF semantics as seccomp uses
 * them: 32-bit accumulator A and index X, 16 scratch words, loads from seccomp_data. */
#include "tests/policy/bpf_eval.h"

#include <errno.h>
#include <string.h>

static int alu(uint16_t op, uint32_t *a, uint32_t src)
{
	switch (op) {
	case BPF_ADD: *a += src; return 0;
	case BPF_SUB: *a -= src; return 0;
	case BPF_MUL: *a *= src; return 0;
	case BPF_DIV: if (!src) return -EINVAL; *a /= src; return 0;
	case BPF_MOD: if (!src) return -EINVAL; *a %= src; return 0;
	case BPF_OR: *a |= src; return 0;
	case BPF_AND: *a &= src; return 0;
	case BPF_XOR: *a ^= src; return 0;
	case BPF_LSH: if (src >= 32) return -EINVAL; *a <<= src; return 0;
	case BPF_RSH: if (src >= 32) return -EINVAL; *a >>= src; return 0;
	case BPF_NEG: *a = (uint32_t)-*a; return 0;
	default: return -EINVAL;
	}
}

static int load_word(const struct seccomp_data *d, uint32_t k, uint32_t *out)
{
	if (k % 4 || k > sizeof(*d) - 4)
		return -EINVAL;
	memcpy(out, (const unsigned char *)d + k, 4);
	return 0;
}

int bpf_eval(const struct sock_filter *prog, size_t n, const struct seccomp_data *d, uint32_t *ret)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *f = &prog[pc++];
		uint16_t code = f->code;
		uint32_t src = BPF_SRC(code) == BPF_X ? x : f->k;
		int taken;

		switch (BPF_CLASS(code)) {
		case BPF_LD:
			if (BPF_MODE(code) == BPF_ABS && BPF_SIZE(code) == BPF_W) {
				if (load_word(d, f->k, &a))
					return -EINVAL;
			} else if (BPF_MODE(code) == BPF_IMM) {
				a = f->k;
			} else if (BPF_MODE(code) == BPF_MEM && f->k < BPF_MEMWORDS) {
				a = mem[f->k];
			} else if (BPF_MODE(code) == BPF_LEN) {
				a = sizeof(*d);
			} else {
				return -EINVAL;
			}
			break;
		case BPF_LDX:
			if (BPF_MODE(code) == BPF_IMM)
				x = f->k;
			else if (BPF_MODE(code) == BPF_MEM && f->k < BPF_MEMWORDS)
				x = mem[f->k];
			else if (BPF_MODE(code) == BPF_LEN)
				x = sizeof(*d);
			else
				return -EINVAL;
			break;
		case BPF_ST:
		case BPF_STX:
			if (f->k >= BPF_MEMWORDS)
				return -EINVAL;
			mem[f->k] = BPF_CLASS(code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			if (alu(BPF_OP(code), &a, src))
				return -EINVAL;
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA) {
				if (f->k >= n - pc)
					return -EINVAL;
				pc += f->k;
				break;
			}
			switch (BPF_OP(code)) {
			case BPF_JEQ: taken = a == src; break;
			case BPF_JGT: taken = a > src; break;
			case BPF_JGE: taken = a >= src; break;
			case BPF_JSET: taken = (a & src) != 0; break;
			default: return -EINVAL;
			}
			pc += taken ? f->jt : f->jf;
			if (pc >= n)
				return -EINVAL;
			break;
		case BPF_RET:
			if (BPF_RVAL(code) == BPF_K)
				*ret = f->k;
			else if (BPF_RVAL(code) == BPF_A)
				*ret = a;
			else
				return -EINVAL;
			return 0;
		case BPF_MISC:
			if (BPF_MISCOP(code) == BPF_TAX)
				x = a;
			else if (BPF_MISCOP(code) == BPF_TXA)
				a = x;
			else
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}
