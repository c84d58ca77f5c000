#include "textflag.h"

// func CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·CPUID(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	subleaf+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET

// func Xgetbv(index uint32) uint64
TEXT ·Xgetbv(SB),NOSPLIT,$0-16
	MOVL	index+0(FP), CX
	XGETBV
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

// func Xsetbv(index uint32, value uint64)
TEXT ·Xsetbv(SB),NOSPLIT,$0-16
	MOVL	index+0(FP), CX
	MOVQ	value+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XSETBV
	RET

// func Rdmsr(msr uint32) uint64
TEXT ·Rdmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

// func Wrmsr(msr uint32, value uint64)
TEXT ·Wrmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	value+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func Rdtsc() uint64
TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func ReadCR0() uint64
TEXT ·ReadCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR0(v uint64)
TEXT ·WriteCR0(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR0
	RET

// func ReadCR2() uint64
TEXT ·ReadCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

// func ReadCR3() uint64
TEXT ·ReadCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR3(v uint64)
TEXT ·WriteCR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR3
	RET

// func ReadCR4() uint64
TEXT ·ReadCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR4(v uint64)
TEXT ·WriteCR4(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR4
	RET

// func Invlpg(addr uintptr)
TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	INVLPG	(AX)
	RET

// func Inb(port uint16) uint8
TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

// func Outb(port uint16, v uint8)
TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	v+2(FP), AX
	OUTB
	RET

// func Outw(port uint16, v uint16)
TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	v+2(FP), AX
	OUTW
	RET

// func Inl(port uint16) uint32
TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW	port+0(FP), DX
	INL
	MOVL	AX, ret+8(FP)
	RET

// func Outl(port uint16, v uint32)
TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	v+4(FP), AX
	OUTL
	RET

// func Halt()
TEXT ·Halt(SB),NOSPLIT,$0-0
	STI
	HLT
	CLI
	RET

// func DisableInterrupts()
TEXT ·DisableInterrupts(SB),NOSPLIT,$0-0
	CLI
	RET

// func Pause()
TEXT ·Pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

// func Rdrand() (v uint64, ok bool)
TEXT ·Rdrand(SB),NOSPLIT,$0-9
	RDRANDQ	AX
	SETCS	BL
	MOVQ	AX, v+0(FP)
	MOVB	BL, ok+8(FP)
	RET

// func Rdseed() (v uint64, ok bool)
TEXT ·Rdseed(SB),NOSPLIT,$0-9
	RDSEEDQ	AX
	SETCS	BL
	MOVQ	AX, v+0(FP)
	MOVB	BL, ok+8(FP)
	RET

// func Xsave(addr uintptr, mask uint64)
TEXT ·Xsave(SB),NOSPLIT,$0-16
	MOVQ	addr+0(FP), DI
	MOVQ	mask+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XSAVE64	(DI)
	RET

// func Xrstor(addr uintptr, mask uint64)
TEXT ·Xrstor(SB),NOSPLIT,$0-16
	MOVQ	addr+0(FP), DI
	MOVQ	mask+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XRSTOR64	(DI)
	RET

// func Lgdt(p uintptr)
TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LGDT	(AX)
	RET

// func Lidt(p uintptr)
TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LIDT	(AX)
	RET

// func Ltr(sel uint16)
TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// func ReloadSegments(code, data uint16)
TEXT ·ReloadSegments(SB),NOSPLIT,$0-4
	MOVWQZX	data+2(FP), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVWQZX	code+0(FP), AX
	// Far return to the next instruction with the new CS.
	LEAQ	reloaded<>(SB), BX
	PUSHQ	AX
	PUSHQ	BX
	RETFQ

TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	RET

// func Fninit()
TEXT ·Fninit(SB),NOSPLIT,$0-0
	FINIT
	RET
