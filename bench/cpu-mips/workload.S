/*
 * workload.S - the fixed instruction mix of bench/cpu-mips, 32-bit cdecl and position
 * independent, so the very same bytes run natively (linked into a 32-bit program) and in
 * cloister's engine (copied into guest RAM):
 *     uint32_t workload(uint32_t iterations, uint8_t *scratch64k);
 * Each iteration: an integer loop (ALU, shifts, multiply, flags), a memory copy loop, calls and
 * returns, and string instructions (REP MOVSD, REP STOSB, REPNE SCASB).
 */
    .text
    .code32
    .globl workload
workload:
    pushl %ebp
    movl %esp, %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 8(%ebp), %ecx
    movl 12(%ebp), %edi
    movl $0x12345678, %ebx
    xorl %edx, %edx
outer:
    pushl %ecx
    /* integer mix */
    movl $16, %ecx
1:  movl %ebx, %eax
    imull $0x9E3779B1, %eax, %eax
    xorl %ecx, %eax
    addl %eax, %ebx
    roll $5, %ebx
    subl %ebx, %edx
    shrl $3, %edx
    adcl $7, %edx
    testl $1, %eax
    jz 2f
    notl %edx
2:  decl %ecx
    jnz 1b
    /* memory copy loop: 64 dwords */
    movl $64, %ecx
    xorl %esi, %esi
3:  movl (%edi,%esi,4), %eax
    addl %ebx, %eax
    movl %eax, 4096(%edi,%esi,4)
    incl %esi
    decl %ecx
    jnz 3b
    /* calls and returns */
    movl $8, %ecx
4:  call leaf
    loop 4b
    /* string instructions */
    pushl %edi
    movl %edi, %esi
    addl $4096, %esi
    addl $16384, %edi
    movl $64, %ecx
    cld
    rep movsl
    movb %bl, %al
    movl $128, %ecx
    rep stosb
    subl $128, %edi
    movb %bl, %al
    incb %al
    movl $128, %ecx
    repne scasb
    popl %edi
    popl %ecx
    decl %ecx
    jnz outer
    movl %ebx, %eax
    xorl %edx, %eax
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

leaf:
    addl %ecx, %ebx
    xorl $0x55AA, %ebx
    ret

    .section .note.GNU-stack, "", @progbits
