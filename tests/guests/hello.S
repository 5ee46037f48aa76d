/*
 * hello.S - cloister's own small test guest: a Multiboot kernel that proves the whole path
 * (loader -> vCPU -> translator -> engine -> port I/O -> serial device -> monitor console).
 * It greets on COM1 polling the LSR like a real driver, computes a checksum with a loop
 * (exercising chaining), echoes the multiboot command line, then halts with interrupts off,
 * which stops the VM cleanly.
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003
    .set COM1, 0x3F8

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .code32
    .globl _start
_start:
    cli
    cmpl $0x2BADB002, %eax
    jne bad_magic
    movl $stack_top, %esp
    movl %ebx, %edi                 /* multiboot info */

    movl $hello, %esi
    call puts

    /* sum of squares 1..1000, and a string copy with REP MOVSB */
    xorl %eax, %eax
    movl $1, %ecx
1:  movl %ecx, %edx
    imull %edx, %edx
    addl %edx, %eax
    incl %ecx
    cmpl $1001, %ecx
    jne 1b
    movl $sum_msg, %esi
    call puts
    call puthex
    call newline

    /* command line, when the loader passed one (info flags bit 2) */
    testl $4, (%edi)
    jz 2f
    movl $cmd_msg, %esi
    call puts
    movl 16(%edi), %esi
    call puts
    call newline
2:
    movl $bye, %esi
    call puts
    cli
    hlt
    jmp .

bad_magic:
    movl $stack_top, %esp
    movl $magic_msg, %esi
    call puts
    cli
    hlt

/* putc: AL to COM1 once the transmitter holding register is empty */
putc:
    pushl %edx
    pushl %eax
    movw $COM1 + 5, %dx
3:  inb %dx, %al
    testb $0x20, %al
    jz 3b
    popl %eax
    movw $COM1, %dx
    outb %al, %dx
    popl %edx
    ret

/* puts: the NUL-terminated string at ESI */
puts:
    pushl %eax
4:  lodsb
    testb %al, %al
    jz 5f
    call putc
    jmp 4b
5:  popl %eax
    ret

/* puthex: EAX as 0x%08x */
puthex:
    pushl %eax
    pushl %ecx
    pushl %edx
    movl %eax, %edx
    movb $'0', %al
    call putc
    movb $'x', %al
    call putc
    movl $8, %ecx
6:  roll $4, %edx
    movl %edx, %eax
    andl $0xF, %eax
    movb hexdigits(%eax), %al
    call putc
    loop 6b
    popl %edx
    popl %ecx
    popl %eax
    ret

newline:
    pushl %eax
    movb $'\n', %al
    call putc
    popl %eax
    ret

    .data
hello:     .asciz "cloister test guest: hello from 32-bit protected mode\n"
sum_msg:   .asciz "sum of squares 1..1000 = "
cmd_msg:   .asciz "command line: "
bye:       .asciz "test guest: halting\n"
magic_msg: .asciz "test guest: not started by a multiboot loader\n"
hexdigits: .ascii "0123456789abcdef"

    .bss
    .align 16
    .space 4096
stack_top:
