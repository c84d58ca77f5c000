#include "textflag.h"
#include "go_asm.h"

// Trap, interrupt and SYSCALL entry and exit. See the package documentation
// for the execution model.

#define MSR_FS_BASE 0xC0000100
#define FRAME_VECTOR 120	// offset of Frame.Vector: 15 words
#define FRAME_RIP 136	// offset of Frame.RIP: 17 words
#define FRAME_CS 144	// offset of Frame.CS: 18 words

#define PUSH_GPRS \
	PUSHQ	AX \
	PUSHQ	CX \
	PUSHQ	DX \
	PUSHQ	BX \
	PUSHQ	BP \
	PUSHQ	SI \
	PUSHQ	DI \
	PUSHQ	R8 \
	PUSHQ	R9 \
	PUSHQ	R10 \
	PUSHQ	R11 \
	PUSHQ	R12 \
	PUSHQ	R13 \
	PUSHQ	R14 \
	PUSHQ	R15

#define POP_GPRS \
	POPQ	R15 \
	POPQ	R14 \
	POPQ	R13 \
	POPQ	R12 \
	POPQ	R11 \
	POPQ	R10 \
	POPQ	R9 \
	POPQ	R8 \
	POPQ	DI \
	POPQ	SI \
	POPQ	BP \
	POPQ	BX \
	POPQ	DX \
	POPQ	CX \
	POPQ	AX

// KERNEL_FS points FS at the kernel TLS block. Clobbers AX, CX, DX.
#define KERNEL_FS \
	MOVQ	CPU_KernelFS(GS), AX \
	CALL	setfs<>(SB)

// CALL_TRAP calls trapGo(frame in BX) and leaves through trapret.
#define CALL_TRAP \
	CLD \
	SUBQ	$16, SP \
	MOVQ	BX, 0(SP) \
	CALL	·trapGo(SB) \
	ADDQ	$16, SP \
	JMP	·trapret(SB)

// alltraps is joined by every stub with the error code and the vector pushed
// below the CPU's interrupt frame. It completes a Frame, saves the user's
// extended state and FS, and calls trapGo(frame).
TEXT ·alltraps(SB),NOSPLIT|NOFRAME,$0
	PUSH_GPRS
	MOVQ	SP, BX
	TESTQ	$3, FRAME_CS(BX)
	JZ	kernelentry
	// From CPL 3: save the thread's extended state, enter the kernel TLS.
	MOVQ	CPU_Xsave(GS), DI
	MOVQ	CPU_XMask(GS), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XSAVE64	(DI)
	MOVQ	$1, CPU_FPSaved(GS)
	KERNEL_FS
kernelentry:
	CALL_TRAP

// syscalltraps is joined by syscallEntry. The extended state stays live in
// the registers (CPU.FPSaved = 0): Go's system-call wrappers treat vector
// registers as clobbered, so the kernel saves the state only when it
// switches threads or delivers a signal.
TEXT ·syscalltraps(SB),NOSPLIT|NOFRAME,$0
	PUSH_GPRS
	MOVQ	SP, BX
	MOVQ	$0, CPU_FPSaved(GS)
	KERNEL_FS
	CALL_TRAP

// setfs sets the FS base to AX, with WRFSBASE where the CPU has it. Clobbers
// CX and DX.
TEXT setfs<>(SB),NOSPLIT|NOFRAME,$0
	CMPQ	CPU_FSGSBase(GS), $0
	JEQ	msr
	WRFSBASEQ	AX
	RET
msr:
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	RET

// trapret returns through the Frame at SP: for a return to CPL 3 it loads the
// (possibly new) current thread's FS and extended state first.
TEXT ·trapret(SB),NOSPLIT|NOFRAME,$0
	TESTQ	$3, FRAME_CS(SP)
	JZ	kernelexit
	MOVQ	CPU_UserFS(GS), AX
	CALL	setfs<>(SB)
	CMPQ	CPU_FPSaved(GS), $0
	JEQ	userexit
	MOVQ	CPU_Xsave(GS), DI
	MOVQ	CPU_XMask(GS), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XRSTOR64	(DI)
userexit:
	// A system call returning to a canonical user address leaves with
	// SYSRET.
	CMPQ	FRAME_VECTOR(SP), $const_VectorSyscall
	JNE	kernelexit
	MOVQ	FRAME_RIP(SP), AX
	SHRQ	$47, AX
	JNZ	kernelexit
	POP_GPRS
	MOVQ	16(SP), CX	// RIP
	MOVQ	32(SP), R11	// RFLAGS
	MOVQ	40(SP), SP	// user RSP
	// SYSRETQ (REX.W 0F 07): the assembler's SYSRET lacks REX.W.
	BYTE	$0x48; BYTE $0x0f; BYTE $0x07
kernelexit:
	POP_GPRS
	ADDQ	$16, SP	// vector and error code
	IRETQ

// syscallEntry is LSTAR: the target of SYSCALL. The CPU left the return RIP in
// CX, RFLAGS in R11, and did not switch stacks; FMASK cleared IF. Build the
// same frame an interrupt from CPL 3 would have, then join alltraps.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, CPU_UserSP(GS)
	MOVQ	CPU_KStack(GS), SP
	PUSHQ	$const_UserDS
	PUSHQ	CPU_UserSP(GS)
	PUSHQ	R11
	PUSHQ	$const_UserCS
	PUSHQ	CX
	PUSHQ	$0
	PUSHQ	$const_VectorSyscall
	JMP	·syscalltraps(SB)

// func EnterFrame(f uintptr)
// EnterFrame switches to the kernel stack at f (a Frame at the top of the
// current CPU's kernel stack) and returns through it, as trapret does.
TEXT ·EnterFrame(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	f+0(FP), SP
	JMP	·trapret(SB)

// func syscallEntryAddr() uintptr
TEXT ·syscallEntryAddr(SB),NOSPLIT,$0-8
	LEAQ	·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func rt0Addr() uintptr
// The Go runtime's Linux entry point, where the first thread starts. The
// reference also keeps the runtime linked, since the image's ELF entry is
// entry32.
TEXT ·rt0Addr(SB),NOSPLIT,$0-8
	LEAQ	_rt0_amd64_linux(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
