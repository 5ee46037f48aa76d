/* bpf_eval.h: a classic-BPF interpreter over struct seccomp_data, so tests can ask what a
 * compiled filter decides for any ABI, syscall and arguments without installing it.
 * Trusts nothing in the program: malformed instructions are reported, not executed. */
#ifndef CLOISTER_TESTS_POLICY_BPF_EVAL_H
#define CLOISTER_TESTS_POLICY_BPF_EVAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

/* Runs PROG (N instructions) on D. Returns 0 and the filter's return value in *RET, or
 * -EINVAL for a bad opcode, out-of-range load or jump, division by zero, or running off
 * the end. */
int bpf_eval(const struct sock_filter *prog, size_t n, const struct seccomp_data *d, uint32_t *ret);

#endif
