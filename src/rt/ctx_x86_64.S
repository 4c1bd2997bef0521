/*
 * x86-64 (System V) context switch for ULTs.
 *
 * void cairn_rt_ctx_switch(void **from_sp, void *to_sp)
 *   Pushes the callee-saved registers (rbp rbx r12-r15) and the FP control words
 *   (MXCSR, x87 control word) on the current stack, stores the stack pointer in
 *   *from_sp, loads to_sp and pops the same frame from there. Caller-saved registers
 *   need no saving: this is an ordinary function call for the compiler. ldmxcsr and
 *   fldcw are slow, so they run only when the resumed context's value differs.
 *
 * Frame layout (growing down from the return address):
 *   ret, rbp, rbx, r12, r13, r14, r15, [mxcsr:4 | x87cw:2 | pad:2]  <- saved sp
 *
 * void cairn_rt_ctx_trampoline(void)
 *   First "return address" of a new context: rt_ctx_make() puts entry in r12 and arg
 *   in r13; we call entry(arg) with a 16-byte aligned stack. entry never returns.
 */
	.text
	.globl	cairn_rt_ctx_switch
	.type	cairn_rt_ctx_switch, @function
	.p2align 4
cairn_rt_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movl	(%rsp), %eax
	movzwl	4(%rsp), %ecx
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	cmpl	(%rsp), %eax
	je	1f
	ldmxcsr	(%rsp)
1:	cmpw	4(%rsp), %cx
	je	2f
	fldcw	4(%rsp)
2:	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	cairn_rt_ctx_switch, .-cairn_rt_ctx_switch

	.globl	cairn_rt_ctx_trampoline
	.type	cairn_rt_ctx_trampoline, @function
	.p2align 4
cairn_rt_ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	cairn_rt_ctx_trampoline, .-cairn_rt_ctx_trampoline

	.section .note.GNU-stack,"",@progbits
