#include "textflag.h"

// Everything here runs in 32-bit protected mode: only 32-bit registers
// below R8 (no REX prefixes) and register-indirect memory operands.

#define COM1 0x3f8
#define COM2 0x2f8
#define OUTC(c) MOVL $c, AX; OUTB

// func entry32()
TEXT ·entry32(SB),NOSPLIT|NOFRAME,$0
	MOVL	24(BX), SI // hvm_start_info.cmdline_paddr (low half)
	MOVL	SI, DI     // DI: start of the last word
	MOVL	$COM1, DX
echoline:
	MOVBLZX	(SI), AX
	CMPL	AX, $0
	JEQ	echoed
	OUTB
	INCL	SI
	CMPL	AX, $0x20
	JNE	echoline
	MOVL	SI, DI
	JMP	echoline
echoed:
	OUTC(0x0a)

	MOVBLZX	(DI), AX
	CMPL	AX, $0x68 // 'h'
	JEQ	hang
	CMPL	AX, $0x72 // 'r'
	JEQ	reset
	CMPL	AX, $0x65 // 'e'
	JEQ	echoin
	CMPL	AX, $0x71 // 'q'
	JNE	number
	INCL	DI
	MOVL	DI, SI
	XORL	CX, CX
quietdigits:
	MOVBLZX	(SI), AX
	CMPL	AX, $0x30
	JLT	quietexit
	CMPL	AX, $0x39
	JGT	quietexit
	SUBL	$0x30, AX
	IMULL	$10, CX
	ADDL	AX, CX
	INCL	SI
	JMP	quietdigits
quietexit:
	JMP	debugexit

number:
	// Write "XAIRROSX-EXIT " and the word's digits to COM2, parsing them.
	MOVL	$COM2, DX
	OUTC(0x58); OUTC(0x41); OUTC(0x49); OUTC(0x52); OUTC(0x52); OUTC(0x4f); OUTC(0x53); OUTC(0x58)
	OUTC(0x2d); OUTC(0x45); OUTC(0x58); OUTC(0x49); OUTC(0x54); OUTC(0x20)
	XORL	CX, CX
digits:
	MOVBLZX	(DI), AX
	CMPL	AX, $0x30
	JLT	lineend
	CMPL	AX, $0x39
	JGT	lineend
	OUTB
	SUBL	$0x30, AX
	IMULL	$10, CX
	ADDL	AX, CX
	INCL	DI
	JMP	digits
lineend:
	OUTC(0x0a)

debugexit:
	// isa-debug-exit: QEMU exits with status (value<<1)|1.
	MOVL	$0x501, DX
	MOVL	CX, AX
	ANDL	$0x7f, AX
	OUTW
hang:
	PAUSE
	JMP	hang

reset:
	// Load an empty IDT (limit 0) from zeroed low memory and raise #BP:
	// #GP, then #DF, then a triple fault.
	MOVL	$0x8000, SI
	MOVL	$0, AX
	MOVL	AX, (SI)
	MOVL	AX, 4(SI)
	LIDT	(SI)
	INT	$3
	JMP	hang

echoin:
	MOVL	$COM1+5, DX // line status register
	INB
	ANDL	$1, AX      // data ready
	JEQ	echoin
	MOVL	$COM1, DX
	INB
	MOVBLZX	AL, AX
	OUTB
	CMPL	AX, $0x0a
	JNE	echoin
	MOVL	$COM2, DX
	OUTC(0x58); OUTC(0x41); OUTC(0x49); OUTC(0x52); OUTC(0x52); OUTC(0x4f); OUTC(0x53); OUTC(0x58)
	OUTC(0x2d); OUTC(0x45); OUTC(0x58); OUTC(0x49); OUTC(0x54); OUTC(0x20)
	OUTC(0x30); OUTC(0x0a)
	XORL	CX, CX
	JMP	debugexit

	// Unreachable; keeps the Go runtime's entry linked.
	JMP	_rt0_amd64_linux(SB)
