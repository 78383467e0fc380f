/*
 * boot.S - the kernel's entry: a multiboot1 header (address kludge, so QEMU's
 * -kernel loads the flat image at 1 MiB), 32-bit protected mode to long mode with
 * boot page tables, then a jump to the higher half and kmain(multiboot_info).
 * Also the exception stubs and the guarded call the test harness recovers from.
 *
 * Boot page tables (2 MiB pages over the first 1 GiB of RAM):
 *   PML4[0]   -> identity       (dropped by the kernel once it runs high)
 *   PML4[273] -> 0xffff888000000000 direct map (PDPT[0])
 *   PML4[511] -> 0xffffffff80000000 kernel image (PDPT[510])
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS ((1 << 1) | (1 << 16))
#define KVMA 0xffffffff80000000

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header
	.long __load_start_phys
	.long __load_end_phys
	.long __bss_end_phys
	.long _start

	.section .boot, "ax"
	.code32
	.global _start
_start:
	cli
	mov %ebx, %edi                 /* multiboot info (physical) */
	/* PD: 512 x 2 MiB, present | writable | huge */
	mov $boot_pd, %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $512, %ecx
	jne 1b
	mov $boot_pd, %eax
	or $3, %eax
	mov %eax, boot_pdpt_low
	mov %eax, boot_pdpt_dm
	mov %eax, boot_pdpt_high + 510 * 8
	mov $boot_pdpt_low, %eax
	or $3, %eax
	mov %eax, boot_pml4
	mov $boot_pdpt_dm, %eax
	or $3, %eax
	mov %eax, boot_pml4 + 273 * 8
	mov $boot_pdpt_high, %eax
	or $3, %eax
	mov %eax, boot_pml4 + 511 * 8
	/* PAE, OSFXSR, OSXMMEXCPT (SSE for the Rust code) */
	mov %cr4, %eax
	or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	/* EFER: LME, NXE */
	mov $0xC0000080, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax
	wrmsr
	/* CR0: PG, PE, MP, WP; EM off */
	mov %cr0, %eax
	and $~(1 << 2), %eax
	or $((1 << 31) | (1 << 0) | (1 << 1) | (1 << 16)), %eax
	mov %eax, %cr0
	lgdt boot_gdt_ptr
	ljmp $8, $long_entry

	.code64
long_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	movabs $kmain, %rax
	call *%rax
2:	hlt
	jmp 2b

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff       /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff       /* 0x10: data */
boot_gdt_ptr:
	.word 23
	.long boot_gdt

	.section .boot.bss, "aw", @nobits
	.align 4096
	.global boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_dm:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4096

/* ---- higher half ---- */
	.section .bss.stack, "aw", @nobits
	.align 4096
	.global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 65536
boot_stack_top:

	.text
/* Exception stubs: push a dummy error code where the CPU pushes none, the vector,
 * then the general registers; trap_dispatch(frame) may rewrite rip/rsp. */
.macro stub n, err
	.global isr_\n
isr_\n:
	.if \err == 0
	push $0
	.endif
	push $\n
	jmp isr_common
.endm
	stub 0,0
	stub 1,0
	stub 2,0
	stub 3,0
	stub 4,0
	stub 5,0
	stub 6,0
	stub 7,0
	stub 8,1
	stub 9,0
	stub 10,1
	stub 11,1
	stub 12,1
	stub 13,1
	stub 14,1
	stub 15,0
	stub 16,0
	stub 17,1
	stub 18,0
	stub 19,0

isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	mov %rsp, %rbx
	and $-16, %rsp
	cld
	call trap_dispatch
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/* int kt_guarded_call(void (*fn)(void *), void *arg): 0 when fn returned, 1 when a fault handler
 * sent control to kt_recover (rsp set back to kt_recover_rsp). */
	.global kt_guarded_call, kt_recover, kt_recover_rsp
kt_guarded_call:
	push %rbp
	mov %rsp, %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp
	mov %rsp, kt_recover_rsp(%rip)
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	xor %eax, %eax
	jmp 3f
kt_recover:
	mov $1, %eax
3:	movq $0, kt_recover_rsp(%rip)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	.data
	.align 8
kt_recover_rsp:
	.quad 0

/* The runtime's own (unchecked) memory functions, which Rust's core calls; C code
 * calls the checked kasan_mem* (kasan.h maps memset/memcpy/memmove to them). */
	.text
	.global memcpy, memmove, memset, memcmp, bcmp
memcpy:
	mov %rdi, %rax
	mov %rdx, %rcx
	rep movsb
	ret
memmove:
	mov %rdi, %rax
	mov %rdx, %rcx
	cmp %rsi, %rdi
	jbe 1f
	lea -1(%rsi, %rdx), %rsi
	lea -1(%rdi, %rdx), %rdi
	std
	rep movsb
	cld
	ret
1:	rep movsb
	ret
memset:
	mov %rdi, %r9
	mov %esi, %eax
	mov %rdx, %rcx
	rep stosb
	mov %r9, %rax
	ret
memcmp:
bcmp:
	xor %eax, %eax
	test %rdx, %rdx
	jz 2f
1:	movzbl (%rdi), %eax
	movzbl (%rsi), %ecx
	sub %ecx, %eax
	jnz 2f
	inc %rdi
	inc %rsi
	dec %rdx
	jnz 1b
2:	ret
	.global strlen
strlen:
	xor %eax, %eax
1:	cmpb $0, (%rdi, %rax)
	je 2f
	inc %rax
	jmp 1b
2:	ret
