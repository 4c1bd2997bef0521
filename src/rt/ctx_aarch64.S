/*
 * AArch64 (AAPCS64) context switch for ULTs; assembled only on aarch64.
 *
 * void cairn_rt_ctx_switch(void **from_sp, void *to_sp)
 *   Saves x19-x30 (x29 = fp, x30 = lr), d8-d15 and FPCR in a 176-byte frame on the
 *   current stack, stores sp in *from_sp, switches to to_sp, restores the same frame
 *   and returns through the restored lr.
 *
 * Frame (offsets from the saved sp):
 *   0 x19 x20 | 16 x21 x22 | 32 x23 x24 | 48 x25 x26 | 64 x27 x28 | 80 x29 x30
 *   96 d8 d9 | 112 d10 d11 | 128 d12 d13 | 144 d14 d15 | 160 fpcr | 168 pad
 *
 * void cairn_rt_ctx_trampoline(void)
 *   rt_ctx_make() sets x19 = entry, x20 = arg and lr = this trampoline.
 */
	.text
	.globl	cairn_rt_ctx_switch
	.type	cairn_rt_ctx_switch, %function
	.p2align 4
cairn_rt_ctx_switch:
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	add	sp, sp, #176
	ret
	.size	cairn_rt_ctx_switch, .-cairn_rt_ctx_switch

	.globl	cairn_rt_ctx_trampoline
	.type	cairn_rt_ctx_trampoline, %function
	.p2align 4
cairn_rt_ctx_trampoline:
	mov	x29, #0
	mov	x0, x20
	blr	x19
	brk	#0
	.size	cairn_rt_ctx_trampoline, .-cairn_rt_ctx_trampoline

	.section .note.GNU-stack,"",%progbits
