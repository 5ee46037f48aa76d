/*
 * entry.c - the 32-bit runner's way into and out of a test case.
 *
 * orn_run_native() saves the runner's callee-saved registers and stack pointer, loads the case's
 * EFLAGS, segment registers and all eight GPRs, and jumps to the case's entry point. Once DS may
 * hold a test segment, runner data is read through CS (the flat user code segment is readable).
 * A case never returns here by itself: it always ends in a signal (its code ends in UD2), and the
 * signal handler rewrites the interrupted context so that sigreturn resumes at orn_resume with the
 * runner's segments, which restores the saved stack and returns from orn_run_native().
 *
 * orn_sig_tramp is the installed signal handler: the case may have left FS/GS holding test
 * selectors, and the C runtime needs GS (TLS) before any C code runs, so they are restored first;
 * the case may also have set EFLAGS.AC (Linux runs user code with CR0.AM set), which the kernel
 * does not clear on signal delivery, so that goes first of all.
 * Trusts: the globals prepared by runner.c.
 *
 * Written as a file-scope asm block so the build needs no assembler language support.
 */
#if !defined(__i386__)
#error "the native runner must be built for 32-bit x86 (-m32)"
#endif

__asm__(
    "        .text\n"
    "        .globl  orn_run_native\n"
    "        .type   orn_run_native, @function\n"
    "orn_run_native:\n"
    "        pushl   %ebp\n"
    "        pushl   %ebx\n"
    "        pushl   %esi\n"
    "        pushl   %edi\n"
    "        movl    %esp, orn_saved_esp\n"
    "        cmpl    $0, orn_want_fninit\n"
    "        je      1f\n"
    "        fninit\n" /* then zero the physical registers: FXAM of an empty register shows */
    "        fldz\n"   /* the sign of its stale contents, which must not leak between cases */
    "        fldz\n"
    "        fldz\n"
    "        fldz\n"
    "        fldz\n"
    "        fldz\n"
    "        fldz\n"
    "        fldz\n"
    "        fninit\n"
    "1:\n"
    "        movl    $1, orn_in_test\n"
    "        pushl   orn_in_eflags\n"
    "        popfl\n"
    "        movw    orn_in_sel+0, %ax\n" /* ES */
    "        movw    %ax, %es\n"
    "        movw    orn_in_sel+8, %ax\n" /* FS */
    "        movw    %ax, %fs\n"
    "        movw    orn_in_sel+10, %ax\n" /* GS */
    "        movw    %ax, %gs\n"
    "        movw    orn_in_sel+6, %ax\n" /* DS: from here on runner data is read through CS */
    "        movw    %ax, %ds\n"
    "        movw    %cs:orn_in_sel+4, %ax\n" /* SS, then ESP in its shadow */
    "        movw    %ax, %ss\n"
    "        movl    %cs:orn_in_regs+16, %esp\n"
    "        movl    %cs:orn_in_regs+0, %eax\n"
    "        movl    %cs:orn_in_regs+4, %ecx\n"
    "        movl    %cs:orn_in_regs+8, %edx\n"
    "        movl    %cs:orn_in_regs+12, %ebx\n"
    "        movl    %cs:orn_in_regs+20, %ebp\n"
    "        movl    %cs:orn_in_regs+24, %esi\n"
    "        movl    %cs:orn_in_regs+28, %edi\n"
    "        jmp     *%cs:orn_in_entry\n"
    "        .globl  orn_run_native_end\n"
    "orn_run_native_end:\n"
    "        .size   orn_run_native, .-orn_run_native\n"
    "\n"
    "        .globl  orn_resume\n"
    "        .type   orn_resume, @function\n"
    "orn_resume:\n"
    "        movl    orn_saved_esp, %esp\n"
    "        popl    %edi\n"
    "        popl    %esi\n"
    "        popl    %ebx\n"
    "        popl    %ebp\n"
    "        ret\n"
    "        .size   orn_resume, .-orn_resume\n"
    "\n"
    "        .globl  orn_sig_tramp\n"
    "        .type   orn_sig_tramp, @function\n"
    "orn_sig_tramp:\n"
    "        pushfl\n" /* the case may have set AC: the C code below is not alignment-clean */
    "        andl    $0xFFFBFFFF, (%esp)\n"
    "        popfl\n"
    "        movw    %cs:orn_runner_gs, %ax\n"
    "        movw    %ax, %gs\n"
    "        movw    %cs:orn_runner_fs, %ax\n"
    "        movw    %ax, %fs\n"
    "        jmp     orn_sig_handler\n"
    "        .size   orn_sig_tramp, .-orn_sig_tramp\n"
    "\n"
);
