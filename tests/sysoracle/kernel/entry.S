/*
 * entry.S - the sysoracle test kernel's assembly: the Multiboot header and entry, the 256
 * interrupt stubs and the recording path every event ends in, the double-fault task's entry,
 * the case entry (so_enter) and the case blob section the host patches.
 *
 * Recording must not depend on the state a case leaves behind, so the common path uses the debug
 * registers DR0/DR1/DR3 as scratch (MOV DRn needs no memory and no valid segment), touches no
 * flag before EFLAGS is saved, loads the framework's flat data selector, copies 12 dwords from
 * the stack it was entered on, and only then switches to its own stack.
 */
#define __ASSEMBLER__ 1
#include "../blob.h"

    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003

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
    cld
    movl $SO_HSTACK_TOP, %esp
    pushl $2
    popfl
    call so_main
1:  cli
    hlt
    jmp 1b

/* ---- 256 stubs, 16 bytes apart: stub N = so_stubs + 16 * N ---- */
    .align 16
    .globl so_stubs
so_stubs:
    .set vec, 0
    .rept 256
    .align 16
    movl %eax, %dr0
    movl $vec, %eax
    jmp so_common
    .set vec, vec + 1
    .endr

#define REC(i) (so_rec + 4 * (i))

so_common:
    movl %eax, %dr3                 /* vector */
    movw %ds, %ax
    movzwl %ax, %eax
    movl %eax, %dr1                 /* the DS the event found */
    movl $SO_SEL_DATA0, %eax
    movw %ax, %ds
    movl %esp, REC(SO_F_ESP)
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_SS)
    .set k, 0
    .rept SO_NFRAME
    movl %ss:(4 * k)(%esp), %eax
    movl %eax, REC(SO_F_FRAME + k)
    .set k, k + 1
    .endr
    movl $SO_SEL_DATA0, %eax
    movw %ax, %ss
    movl $SO_HSTACK_TOP, %esp
    pushfl
    popl REC(SO_F_EFLAGS)
    cld
    movl %dr0, %eax
    movl %eax, REC(SO_F_EAX)
    movl %ecx, REC(SO_F_ECX)
    movl %edx, REC(SO_F_EDX)
    movl %ebx, REC(SO_F_EBX)
    movl %ebp, REC(SO_F_EBP)
    movl %esi, REC(SO_F_ESI)
    movl %edi, REC(SO_F_EDI)
    movl %dr1, %eax
    movl %eax, REC(SO_F_DS)
    movl %dr3, %eax
    movl %eax, REC(SO_F_VEC)
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_CS)
    movw %es, %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_ES)
    movw %fs, %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_FS)
    movw %gs, %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_GS)
    movl %cr0, %eax
    movl %eax, REC(SO_F_CR0)
    movl %cr2, %eax
    movl %eax, REC(SO_F_CR2)
    movl %cr3, %eax
    movl %eax, REC(SO_F_CR3)
    movl %cr4, %eax
    movl %eax, REC(SO_F_CR4)
    sldt %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_LDTR)
    str %ax
    movzwl %ax, %eax
    movl %eax, REC(SO_F_TR)
    movl $SO_SEL_DATA0, %eax
    movw %ax, %es
    xorl %eax, %eax
    movw %ax, %fs
    movw %ax, %gs
    call so_after
    jmp 1b

/* ---- the double-fault task (IDT vector 8 is a task gate to SO_SEL_DF_TSS) ----
 * Runs on its own TSS: CS, SS, DS, ES flat ring 0, ESP = SO_DF_STACK_TOP (minus the error code),
 * CR3 = SO_PD. The interrupted task's state is in the main TSS; so_after_df() copies it. */
    .globl so_df_entry
so_df_entry:
    movl %esp, REC(SO_F_ESP)
    .set k, 0
    .rept 4
    movl (4 * k)(%esp), %eax
    movl %eax, REC(SO_F_FRAME + k)
    .set k, k + 1
    .endr
    pushfl
    popl REC(SO_F_EFLAGS)
    cld
    movl $SO_HSTACK_TOP, %esp
    call so_after_df
    jmp 1b

/* ---- so_enter(const struct so_case *c): load the case's registers and IRET into it ----
 * Same privilege (CS RPL 0): the frame (GPRs for POPA, GS FS ES DS, EIP CS EFLAGS) is written
 * below the case's ESP through the flat data segment, SS:ESP is loaded, and POPA/POP/IRET run
 * on the case's stack (which must be flat-based). Outer privilege: the frame, with SS:ESP, is
 * built on the framework's stack. */
#define C_EFLAGS 20
#define C_EIP 24
#define C_GPR 28
#define C_CS 60
#define C_SS 62
#define C_DS 64
#define C_ES 66
#define C_FS 68
#define C_GS 70
    .globl so_enter
so_enter:
    movl 4(%esp), %esi
    testb $3, C_CS(%esi)
    jnz 2f
    movl (C_GPR + 16)(%esi), %edi   /* case ESP */
    subl $60, %edi
    movl %edi, %ebx
    /* POPA image: EDI ESI EBP ESP EBX EDX ECX EAX */
    movl (C_GPR + 28)(%esi), %eax
    movl %eax, 0(%ebx)
    movl (C_GPR + 24)(%esi), %eax
    movl %eax, 4(%ebx)
    movl (C_GPR + 20)(%esi), %eax
    movl %eax, 8(%ebx)
    movl $0, 12(%ebx)
    movl (C_GPR + 12)(%esi), %eax
    movl %eax, 16(%ebx)
    movl (C_GPR + 8)(%esi), %eax
    movl %eax, 20(%ebx)
    movl (C_GPR + 4)(%esi), %eax
    movl %eax, 24(%ebx)
    movl (C_GPR + 0)(%esi), %eax
    movl %eax, 28(%ebx)
    movzwl C_GS(%esi), %eax
    movl %eax, 32(%ebx)
    movzwl C_FS(%esi), %eax
    movl %eax, 36(%ebx)
    movzwl C_ES(%esi), %eax
    movl %eax, 40(%ebx)
    movzwl C_DS(%esi), %eax
    movl %eax, 44(%ebx)
    movl C_EIP(%esi), %eax
    movl %eax, 48(%ebx)
    movzwl C_CS(%esi), %eax
    movl %eax, 52(%ebx)
    movl C_EFLAGS(%esi), %eax
    movl %eax, 56(%ebx)
    movw C_SS(%esi), %ax
    movw %ax, %ss
    movl %ebx, %esp
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    iretl
2:  movl $SO_HSTACK_TOP, %esp
    movzwl C_SS(%esi), %eax
    pushl %eax
    pushl (C_GPR + 16)(%esi)
    pushl C_EFLAGS(%esi)
    movzwl C_CS(%esi), %eax
    pushl %eax
    pushl C_EIP(%esi)
    movzwl C_DS(%esi), %eax
    pushl %eax
    movzwl C_ES(%esi), %eax
    pushl %eax
    movzwl C_FS(%esi), %eax
    pushl %eax
    movzwl C_GS(%esi), %eax
    pushl %eax
    pushl (C_GPR + 0)(%esi)
    pushl (C_GPR + 4)(%esi)
    pushl (C_GPR + 8)(%esi)
    pushl (C_GPR + 12)(%esi)
    pushl $0
    pushl (C_GPR + 20)(%esi)
    pushl (C_GPR + 24)(%esi)
    pushl (C_GPR + 28)(%esi)
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    iretl

/* ---- the case blob: header here, cases patched in by the host ---- */
    .section .blob, "aw"
    .globl so_blob
so_blob:
    .long SO_BLOB_MAGIC0, SO_BLOB_MAGIC1
    .long SO_BLOB_SIZE - 32
    .long SO_BLOB_VERSION
    .long 0, 0, 0, 0
    .space SO_BLOB_SIZE - 32, 0
