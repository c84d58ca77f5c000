#include "textflag.h"
#include "go_asm.h"

// PVH boot entry. QEMU (and any PVH loader) enters entry32 in 32-bit protected
// mode, paging off, with EBX holding the physical address of the
// hvm_start_info block. The image is linked at 1 MiB and loaded where linked,
// so virtual and physical addresses agree.
//
// entry32 is Go assembly that must run in 32-bit mode. The rules that make the
// same bytes mean the same thing in both modes: no REX prefixes (only L
// operations on AX..DI; PUSHQ of an immediate or a low register is fine
// because it needs no REX), and register-indirect memory operands only. The
// assembler encodes `LEAL sym(SB), R` as RIP-relative; in 32-bit mode the same
// bytes give the displacement itself, which ADDR32 corrects with the address
// of the instruction (from CALL getpc32).

#define MSR_EFER 0xC0000080
#define MSR_FS_BASE 0xC0000100

// ADDR32 sets reg to the absolute address of sym. Clobbers AX. The LEAL is
// 6 bytes long and immediately follows the CALL, whose return address is the
// LEAL's own address.
#define ADDR32(sym, reg) \
	CALL	·getpc32(SB) \
	LEAL	sym, reg \
	ADDL	AX, reg \
	ADDL	$6, reg

TEXT ·getpc32(SB),NOSPLIT|NOFRAME,$0
	MOVL	0(SP), AX
	RET

// entry32 is the image's ELF entry point (-E ...entry32).
TEXT ·entry32(SB),NOSPLIT|NOFRAME,$0
	CLI
	CLD
	MOVL	$0x80000, SP	// temporary stack in conventional memory
	// Page tables: PML4, PDPT and 4 page directories identity-mapping the
	// first 4 GiB with 2 MiB pages, in bootTables (8 pages incl. alignment).
	ADDR32(·bootTables(SB), SI)
	ADDL	$4095, SI
	ANDL	$~4095, SI
	MOVL	SI, DI
	XORL	AX, AX
	MOVL	$(6*1024), CX
	REP;	STOSL
	// PML4[0] -> PDPT
	LEAL	4096(SI), AX
	ORL	$7, AX
	MOVL	AX, 0(SI)
	// PDPT[i] -> PD i
	LEAL	8192(SI), AX
	ORL	$7, AX
	MOVL	AX, 4096(SI)
	ADDL	$4096, AX
	MOVL	AX, 4104(SI)
	ADDL	$4096, AX
	MOVL	AX, 4112(SI)
	ADDL	$4096, AX
	MOVL	AX, 4120(SI)
	// PD entries: 2048 x 2 MiB, present|writable|user|large.
	LEAL	8192(SI), DI
	XORL	CX, CX
pdloop:
	MOVL	CX, AX
	SHLL	$21, AX
	ORL	$0x87, AX
	MOVL	AX, 0(DI)(CX*8)
	INCL	CX
	CMPL	CX, $2048
	JLT	pdloop
	// CR4.PAE
	MOVQ	CR4, AX
	ORL	$(1<<5), AX
	MOVQ	AX, CR4
	MOVL	SI, AX
	MOVQ	AX, CR3
	// EFER.LME | EFER.SCE
	MOVL	$MSR_EFER, CX
	RDMSR
	ORL	$((1<<8)|(1<<0)), AX
	WRMSR
	// CR0: PG | PE | WP, caches on.
	MOVQ	CR0, AX
	ORL	$0x80010001, AX
	ANDL	$~0x60000000, AX
	MOVQ	AX, CR0
	// Load the boot GDT through a pseudo-descriptor built in bootGDTPtr.
	ADDR32(·bootGDTPtr(SB), DX)
	ADDR32(·bootGDT(SB), CX)
	MOVW	$23, 0(DX)
	MOVL	CX, 2(DX)
	MOVL	$0, 6(DX)
	LGDT	0(DX)
	// Far return into 64-bit code: push CS then EIP. In 32-bit mode RETFQ's
	// REX.W byte decodes as DEC EAX, which is harmless here.
	ADDR32(·entry64(SB), CX)
	PUSHQ	$8
	PUSHQ	CX
	RETFQ

// entry64 runs in long mode on the boot page tables, with EBX still holding the
// hvm_start_info address.
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x10, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVW	AX, FS
	MOVW	AX, GS
	MOVL	BX, BX	// zero-extend the start-info address
	// Leave room at the top for the first thread's Frame, which kmain
	// builds there while running below it.
	LEAQ	·kernelStack+(const_KernelStackSize-1024)(SB), SP
	// SSE: CR0.EM off, CR0.MP on; CR4.OSFXSR | CR4.OSXMMEXCPT.
	MOVQ	CR0, AX
	ANDQ	$~(1<<2), AX
	ORQ	$(1<<1), AX
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$((1<<9)|(1<<10)), AX
	MOVQ	AX, CR4
	// Kernel TLS: FS:-8 must hold a g whose stack bounds cover the kernel
	// stack before any Go code (or ABI wrapper) runs.
	LEAQ	·kernelStack(SB), AX
	MOVQ	AX, ·kernelG+0(SB)	// stack.lo
	LEAQ	·kernelStack+const_KernelStackTotal(SB), CX
	MOVQ	CX, ·kernelG+8(SB)	// stack.hi
	ADDQ	$const_StackGuard, AX
	MOVQ	AX, ·kernelG+16(SB)	// stackguard0
	MOVQ	AX, ·kernelG+24(SB)	// stackguard1
	LEAQ	·kernelM(SB), AX
	MOVQ	AX, ·kernelG+48(SB)	// m
	LEAQ	·kernelG(SB), AX
	MOVQ	AX, ·kernelTLS+0(SB)
	LEAQ	·kernelTLS+8(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	XORPS	X15, X15
	SUBQ	$16, SP
	MOVQ	BX, 0(SP)
	CALL	·bootGo(SB)
hang:
	CLI
	HLT
	JMP	hang

// Boot GDT: null, 64-bit code (0x08), data (0x10).
DATA ·bootGDT+0(SB)/8, $0
DATA ·bootGDT+8(SB)/8, $0x00AF9A000000FFFF
DATA ·bootGDT+16(SB)/8, $0x00CF92000000FFFF
GLOBL ·bootGDT(SB), NOPTR, $24
GLOBL ·bootGDTPtr(SB), NOPTR, $16
GLOBL ·bootTables(SB), NOPTR, $(8*4096)

// func imageEnd() uintptr
// The end of the image's BSS (the linker's runtime.end symbol).
TEXT ·imageEnd(SB),NOSPLIT,$0-8
	LEAQ	runtime·end(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
