package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Signals, delivered as Linux delivers them on x86-64: a synchronous fault in
// the program becomes SIGSEGV, SIGFPE, SIGILL, SIGBUS or SIGTRAP with the
// siginfo the Go runtime expects (so a nil dereference becomes a recoverable
// panic), tgkill queues a signal (the runtime's SIGURG preemption), and the
// handler runs on the thread's alternate stack with an rt_sigframe: return
// address (sa_restorer), ucontext, siginfo. rt_sigreturn restores it. The
// extended state is kept in the kernel across the handler (one level, which
// is all Go needs: its handlers run with every signal blocked), and the
// frame's fpstate pointer is null.

const (
	_SIGTRAP  = 5
	_SIGBUS   = 7
	_SIGFPE   = 8
	_SIGKILL  = 9
	_SIGSEGV  = 11
	_SIGILL   = 4
	_SIGSTOP  = 19
	_SIGURG   = 23
	_SIGCHLD  = 17
	_SIGWINCH = 28

	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestorer  = 0x04000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000

	sigDfl = 0
	sigIgn = 1

	ssOnstack = 1
	ssDisable = 2

	siTkill    = -6
	siKernel   = 0x80
	segvMaperr = 1
	segvAccerr = 2
	fpeIntdiv  = 1
	illIllopn  = 2
	busAdraln  = 1
	trapBrkpt  = 1
)

type sigaction struct {
	handler, flags, restorer, mask uint64
}

var sigacts [65]sigaction

// Frame layout sizes (bytes).
const (
	ucSize       = 304 // ucontext: flags, link, stack, mcontext (256), sigmask
	siginfoSize  = 128
	mcontextOff  = 40
	sigmaskOff   = 296
	sigframeSize = 8 + ucSize + siginfoSize
)

func sysRtSigaction(sig int64, act, oact uintptr, size uintptr) int64 {
	if sig < 1 || sig > 64 || size != 8 {
		return -_EINVAL
	}
	if oact != 0 {
		if !userOK(oact, 32, true) {
			return -_EFAULT
		}
		a := sigacts[sig]
		store64(oact, a.handler)
		store64(oact+8, a.flags)
		store64(oact+16, a.restorer)
		store64(oact+24, a.mask)
	}
	if act != 0 {
		if sig == _SIGKILL || sig == _SIGSTOP {
			return -_EINVAL
		}
		if !userOK(act, 32, false) {
			return -_EFAULT
		}
		sigacts[sig] = sigaction{load64(act), load64(act + 8), load64(act + 16), load64(act + 24)}
	}
	return 0
}

const unblockable = 1<<(_SIGKILL-1) | 1<<(_SIGSTOP-1)

func sysRtSigprocmask(t *thread, how int64, set, oset uintptr, size uintptr) int64 {
	if size != 8 {
		return -_EINVAL
	}
	old := t.sigmask
	if set != 0 {
		if !userOK(set, 8, false) {
			return -_EFAULT
		}
		s := load64(set)
		switch how {
		case 0: // SIG_BLOCK
			t.sigmask |= s
		case 1: // SIG_UNBLOCK
			t.sigmask &^= s
		case 2: // SIG_SETMASK
			t.sigmask = s
		default:
			return -_EINVAL
		}
		t.sigmask &^= unblockable
	}
	if oset != 0 {
		if !userOK(oset, 8, true) {
			return -_EFAULT
		}
		store64(oset, old)
	}
	return 0
}

func onAltStack(t *thread, sp uint64) bool {
	return t.altSize != 0 && uintptr(sp) > t.altSP && uintptr(sp) <= t.altSP+t.altSize
}

func sysSigaltstack(t *thread, f *amd64.Frame, ss, oss uintptr) int64 {
	if oss != 0 {
		if !userOK(oss, 24, true) {
			return -_EFAULT
		}
		flags := uint64(0)
		if t.altSize == 0 {
			flags = ssDisable
		} else if onAltStack(t, f.RSP) {
			flags = ssOnstack
		}
		store64(oss, uint64(t.altSP))
		store64(oss+8, flags)
		store64(oss+16, uint64(t.altSize))
	}
	if ss != 0 {
		if !userOK(ss, 24, false) {
			return -_EFAULT
		}
		if onAltStack(t, f.RSP) {
			return -_EPERM
		}
		sp, flags, size := load64(ss), load32(ss+8), load64(ss+16)
		if flags&ssDisable != 0 {
			t.altSP, t.altSize = 0, 0
		} else {
			if size < 2048 {
				return -12 // ENOMEM, as Linux for MINSIGSTKSZ
			}
			t.altSP, t.altSize = uintptr(sp), uintptr(size)
		}
	}
	return 0
}

// sysTgkill queues sig for thread tid.
func sysTgkill(tid int64, sig int64) int64 {
	if sig < 0 || sig > 64 {
		return -_EINVAL
	}
	i := threadByTID(int32(tid))
	if i < 0 {
		return -_ESRCH
	}
	if sig == 0 {
		return 0
	}
	t := &threads[i]
	t.pending |= 1 << (sig - 1)
	// A blocked thread that can take the signal is interrupted.
	if t.state == tsBlocked && t.wait != waitService && t.pending&^t.sigmask != 0 {
		wake(t, -_EINTR)
	}
	return 0
}

// deliverSignals delivers the lowest pending unblocked signal of t, which is
// about to return to user mode through f.
func deliverSignals(t *thread, f *amd64.Frame) {
	p := t.pending &^ t.sigmask
	if p == 0 {
		return
	}
	sig := 1
	for p&1 == 0 {
		p >>= 1
		sig++
	}
	t.pending &^= 1 << (sig - 1)
	sendSignal(t, f, sig, siTkill, 1)
}

// sendSignal runs the handler of sig on t, or applies the default action.
// code and addr go into the siginfo (addr is si_addr for faults, si_pid
// otherwise).
func sendSignal(t *thread, f *amd64.Frame, sig int, code int32, addr uint64) {
	a := sigacts[sig]
	if a.handler == sigIgn && code == siTkill {
		return
	}
	if a.handler == sigDfl || a.handler == sigIgn {
		switch sig {
		case _SIGURG, _SIGCHLD, _SIGWINCH:
			if code == siTkill {
				return
			}
		}
		killedBy(sig, f)
		return
	}
	sp := f.RSP
	if a.flags&saOnstack != 0 && t.altSize != 0 && !onAltStack(t, sp) {
		sp = uint64(t.altSP + t.altSize)
	} else {
		sp -= 128 // red zone
	}
	frame := uintptr((sp-sigframeSize)&^15) - 8
	if !userOK(frame, sigframeSize, true) {
		killedBy(_SIGSEGV, f)
		return
	}
	uc := frame + 8
	info := uc + ucSize
	zero := bytesAt(frame, sigframeSize)
	for i := range zero {
		zero[i] = 0
	}
	store64(frame, a.restorer)
	// ucontext
	store64(uc+16, uint64(t.altSP))
	if onAltStack(t, f.RSP) {
		store64(uc+24, ssOnstack)
	} else if t.altSize == 0 {
		store64(uc+24, ssDisable)
	}
	store64(uc+32, uint64(t.altSize))
	saveMcontext(uc+mcontextOff, f, addr)
	store64(uc+sigmaskOff, t.sigmask)
	// siginfo
	store32(info, uint32(sig))
	store32(info+8, uint32(code))
	store64(info+16, addr)
	// Extended state survives the handler in the kernel.
	if t.inSignal == 0 {
		amd64.SaveFP(cpu)
		copy(bytesAt(t.xsaveSig, int(xsaveSize)), bytesAt(t.xsave, int(xsaveSize)))
	}
	t.inSignal++
	if a.flags&saNodefer == 0 {
		t.sigmask |= 1 << (sig - 1)
	}
	t.sigmask |= a.mask &^ unblockable
	if a.flags&saResethand != 0 {
		sigacts[sig].handler = sigDfl
	}
	f.RIP = a.handler
	f.RSP = uint64(frame)
	f.RDI = uint64(sig)
	f.RSI = uint64(info)
	f.RDX = uint64(uc)
	f.RAX = 0
	f.RFLAGS &^= amd64.FlagDF | amd64.FlagTF
}

// mcontext (struct sigcontext) word indices.
const (
	mcR8 = iota
	mcR9
	mcR10
	mcR11
	mcR12
	mcR13
	mcR14
	mcR15
	mcRDI
	mcRSI
	mcRBP
	mcRBX
	mcRDX
	mcRAX
	mcRCX
	mcRSP
	mcRIP
	mcEFLAGS
	mcCSGSFS
	mcERR
	mcTRAPNO
	mcOLDMASK
	mcCR2
)

func saveMcontext(mc uintptr, f *amd64.Frame, addr uint64) {
	w := (*[32]uint64)(addrPtr(mc))
	w[mcR8], w[mcR9], w[mcR10], w[mcR11] = f.R8, f.R9, f.R10, f.R11
	w[mcR12], w[mcR13], w[mcR14], w[mcR15] = f.R12, f.R13, f.R14, f.R15
	w[mcRDI], w[mcRSI], w[mcRBP], w[mcRBX] = f.RDI, f.RSI, f.RBP, f.RBX
	w[mcRDX], w[mcRAX], w[mcRCX], w[mcRSP] = f.RDX, f.RAX, f.RCX, f.RSP
	w[mcRIP], w[mcEFLAGS] = f.RIP, f.RFLAGS
	w[mcCSGSFS] = f.CS | uint64(f.SS)<<48
	w[mcERR] = f.Err
	w[mcTRAPNO] = f.Vector
	w[mcCR2] = addr
}

// sysRtSigreturn restores the context saved by sendSignal; the ucontext is
// at the user's stack pointer (the handler's return popped the restorer
// address).
func sysRtSigreturn(t *thread, f *amd64.Frame) {
	uc := uintptr(f.RSP)
	if !userOK(uc, ucSize, false) {
		killedBy(_SIGSEGV, f)
		return
	}
	w := (*[32]uint64)(addrPtr(uc + mcontextOff))
	f.R8, f.R9, f.R10, f.R11 = w[mcR8], w[mcR9], w[mcR10], w[mcR11]
	f.R12, f.R13, f.R14, f.R15 = w[mcR12], w[mcR13], w[mcR14], w[mcR15]
	f.RDI, f.RSI, f.RBP, f.RBX = w[mcRDI], w[mcRSI], w[mcRBP], w[mcRBX]
	f.RDX, f.RAX, f.RCX, f.RSP = w[mcRDX], w[mcRAX], w[mcRCX], w[mcRSP]
	f.RIP = w[mcRIP]
	// Only the arithmetic and direction flags come from the user.
	const userBits = 0xCD5 | amd64.FlagDF | amd64.FlagAC
	f.RFLAGS = w[mcEFLAGS]&userBits | amd64.UserFlags
	f.CS, f.SS = amd64.UserCS, amd64.UserDS
	f.Vector = amd64.VectorIret // every register must come back
	t.sigmask = load64(uc+sigmaskOff) &^ unblockable
	if t.inSignal > 0 {
		t.inSignal--
		if t.inSignal == 0 {
			copy(bytesAt(t.xsave, int(xsaveSize)), bytesAt(t.xsaveSig, int(xsaveSize)))
			cpu.FPSaved = 1 // the exit path must load the restored state
		}
	}
}

// userFault turns a CPU exception in the program into its signal.
func userFault(t *thread, f *amd64.Frame, vector uint64) {
	sig, code, addr := _SIGSEGV, int32(siKernel), uint64(0)
	switch vector {
	case 0: // #DE
		sig, code, addr = _SIGFPE, fpeIntdiv, f.RIP
	case 3: // #BP
		sig, code, addr = _SIGTRAP, trapBrkpt, f.RIP
	case 6: // #UD
		sig, code, addr = _SIGILL, illIllopn, f.RIP
	case 16, 19: // x87, SIMD
		sig, code, addr = _SIGFPE, 0, f.RIP
	case 17: // #AC
		sig, code = _SIGBUS, busAdraln
	case 14:
		addr = amd64.ReadCR2()
		code = segvMaperr
		if f.Err&pfPresent != 0 {
			code = segvAccerr
		}
	}
	// A synchronous signal cannot be blocked: Linux unblocks it (and kills
	// the program if the handler is the default).
	t.sigmask &^= 1 << (sig - 1)
	sendSignal(t, f, sig, code, addr)
}
