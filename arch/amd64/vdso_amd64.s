#include "textflag.h"

// vdsoClockGettime is the kernel's vDSO __vdso_clock_gettime, called by the
// Go runtime in user mode with the C calling convention (DI = clock id, SI =
// struct timespec *); it returns 0 in AX. Monotonic and real-time clocks are
// computed from the TSC with the boot-time calibration in VDSOData, without
// entering the kernel; any other clock makes the real system call. It uses no
// stack and clobbers only AX, CX, DX (caller-saved in the C ABI).
TEXT ·vdsoClockGettime(SB),NOSPLIT|NOFRAME,$0
	CMPL	DI, $0	// CLOCK_REALTIME
	JEQ	fast
	CMPL	DI, $1	// CLOCK_MONOTONIC
	JEQ	fast
	CMPL	DI, $4	// CLOCK_MONOTONIC_RAW
	JEQ	fast
	CMPL	DI, $7	// CLOCK_BOOTTIME
	JEQ	fast
	MOVL	$228, AX	// SYS_clock_gettime
	SYSCALL
	RET
fast:
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	SUBQ	·VDSOData+0(SB), AX	// TSC at boot
	MULQ	·VDSOData+8(SB)	// DX:AX = delta * mult (ns << 32)
	SHRQ	$32, AX
	SHLQ	$32, DX
	ORQ	DX, AX	// ns since boot
	CMPL	DI, $0
	JNE	split
	ADDQ	·VDSOData+16(SB), AX	// Unix time at boot
split:
	XORL	DX, DX
	MOVQ	$1000000000, CX
	DIVQ	CX
	MOVQ	AX, 0(SI)
	MOVQ	DX, 8(SI)
	XORL	AX, AX
	RET

// func vdsoClockGettimeAddr() uintptr
TEXT ·vdsoClockGettimeAddr(SB),NOSPLIT,$0-8
	LEAQ	·vdsoClockGettime(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
