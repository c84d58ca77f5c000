package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// trap is the kernel's entry for every exception, interrupt and system call
// (reached from arch/amd64's alltraps through a linkname). f is the
// interrupted context; what trap leaves in f is what resumes.
func trap(f *amd64.Frame) {
	if !f.FromUser() {
		kernelTrap(f)
		return
	}
	t := &threads[current]
	switch v := f.Vector; {
	case v == amd64.VectorSyscall:
		doSyscall(t, f)
	case v >= irqBase && v < irqBase+maxLines:
		irq(int(v-irqBase), true)
	case v == 255:
		// spurious
	case v == 14:
		switch handleUserFault(uintptr(amd64.ReadCR2()), f.Err) {
		case faultMapped:
		case faultNoMemory:
			outOfMemory(f)
		default:
			userFault(t, f, v)
		}
	case v < 32:
		userFault(t, f, v)
	}
	schedule(f)
}

// kernelTrap handles traps taken in kernel context: interrupts while idle,
// and page faults on user areas touched on the program's behalf.
func kernelTrap(f *amd64.Frame) {
	switch v := f.Vector; {
	case v >= irqBase && v < irqBase+maxLines:
		irq(int(v-irqBase), false)
		return
	case v == 255:
		return
	case v == 14:
		if a := uintptr(amd64.ReadCR2()); a >= identTop {
			switch handleUserFault(a, f.Err) {
			case faultMapped:
				return
			case faultNoMemory:
				outOfMemory(f)
			}
		}
	}
	kernelFault(f)
}

func outOfMemory(f *amd64.Frame) {
	prints("xairrosx: out of memory (")
	printu(totalFrames * pageSize >> 20)
	prints(" MiB): killing the program\n")
	killedBy(_SIGKILL, f)
}

// irq handles an interrupt on line n (see ioapic.go).
func irq(n int, fromUser bool) {
	switch n {
	case timerLine:
		timerTick(fromUser)
	case serialLine:
		consoleInterrupt()
	default:
		if !useIOAPIC && (n == 7 || n == 15) {
			// Spurious unless the PIC's in-service register says so.
			port := uint16(picMaster)
			if n == 15 {
				port = picSlave
			}
			amd64.Outb(port, 0x0B)
			if amd64.Inb(port)&0x80 == 0 {
				if n == 15 {
					eoi(0)
				}
				return
			}
		}
		deviceIRQ(n)
	}
	ackInterrupt(n)
}
