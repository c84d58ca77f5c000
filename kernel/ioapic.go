package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Interrupt routing. Where the ACPI MADT lists I/O APICs (pc, q35 and
// microvm all have one), the kernel routes interrupts through them and
// turns the 8259 PICs off: each global system interrupt (GSI) n arrives on
// vector irqBase+n and is acknowledged at the local APIC. The PICs stay in
// use only where there is no MADT or no I/O APIC, or when the kernel option
// xairrosx.irq=pic asks for them (which also turns MSIs off, so that PCI
// devices use their legacy INTx lines).
//
// PCI devices signal interrupts with messages (MSI-X) where they can: a
// driver takes a line from 48 up with sysMSIAlloc, which also returns the
// message address and data to program into the device, and then waits on it
// with IRQWait like on any other line. (With I/O APICs, legacy PCI INTx would
// need the ACPI _PRT routing tables, which are AML; QEMU's q35 routes INTx to
// GSIs 16-23 that only AML describes.)
//
// Interrupt lines, as the rest of the kernel and the drivers' IRQWait number
// them, are GSIs in I/O APIC mode and PIC inputs otherwise. A legacy ISA IRQ
// (what a PCI function's interrupt-line register and the PIT and serial port
// use) becomes a GSI through the MADT's interrupt source overrides; the PIT's
// IRQ 0, for instance, is GSI 2 on QEMU's machines. Device lines (IRQWait)
// are level-triggered unless an override says otherwise: PCI INTx and
// virtio-mmio interrupts stay asserted until the driver acknowledges the
// device.

const (
	maxGSIs  = 48           // lines 0-47: PIC inputs or GSIs
	msiBase  = maxGSIs      // lines 48-79: message-signalled interrupts
	maxLines = msiBase + 16 // vectors irqBase to irqBase+maxLines-1 (a uint64 of lines)
	msiAddr  = 0xFEE00000   // MSI message address of local APIC 0 (Intel SDM 11.11.1)

	// MADT entry types and override flags (ACPI 6.5, 5.2.12).
	madtIOAPIC        = 1
	madtOverride      = 2
	madtPolarityMask  = 3
	madtPolarityLow   = 3
	madtTriggerMask   = 3 << 2
	madtTriggerLevel  = 3 << 2
	madtTriggerEdge   = 1 << 2
	madtPCATCompat    = 1 // MADT flags: the 8259s are present
	maxIOAPICs        = 2
	ioapicRegSel      = 0x00
	ioapicWin         = 0x10
	ioapicVersion     = 0x01
	ioapicRedirBase   = 0x10
	redirMasked       = 1 << 16
	redirLevel        = 1 << 15
	redirActiveLow    = 1 << 13
	lapicEOI          = 0xB0
	lapicID           = 0x20
	lvtMasked         = 1 << 16
	irqLinesPIC       = 16
	irqOptionPIC      = "xairrosx.irq=pic"
	defaultTimerLine  = irqTimer
	defaultSerialLine = irqCOM1
)

type ioapic struct {
	base    uintptr // register window (identity-mapped)
	gsiBase uint32
	pins    uint32
}

var (
	useIOAPIC  bool
	ioapics    [maxIOAPICs]ioapic
	nioapics   int
	isaGSI     [16]uint8       // ISA IRQ -> GSI (identity unless overridden)
	gsiFlags   [maxGSIs]uint16 // MADT flags of the override that names the GSI, 0 if none
	lapicRegs  uintptr         // local APIC registers, 0 if none
	lapicIDv   uint32          // this CPU's local APIC ID
	timerLine  = defaultTimerLine
	serialLine = defaultSerialLine
	optPIC     bool // xairrosx.irq=pic
)

// initInterrupts sets up the interrupt controllers: the PICs (remapped to
// irqBase, so that stray interrupts land on known vectors), the local APIC,
// and the I/O APICs if the MADT lists them. It then opens the timer and
// serial lines.
func initInterrupts(si uintptr) {
	initPIC()
	initLAPIC()
	for i := range isaGSI {
		isaGSI[i] = uint8(i)
	}
	if optPIC || lapicRegs == 0 || !readMADT(findRSDP(si)) {
		amd64.Outb(picMaster+1, ^uint8(1<<irqTimer|1<<2|1<<irqCOM1))
		logs("interrupts: 8259 PIC\n")
		return
	}
	useIOAPIC = true
	// PICs off (every input masked), and LINT0 no longer delivers their
	// ExtINT: everything comes through the I/O APICs now.
	amd64.Outb(picMaster+1, 0xff)
	amd64.Outb(picSlave+1, 0xff)
	store32(lapicRegs+lapicLINT0, lvtMasked)
	// Every pin starts masked and level-triggered: QEMU's I/O APIC (like
	// the 82093AA) ignores an edge-mode pin's rising input while masked,
	// so a device that raised its line before its driver first waited
	// would never be seen; a level-mode pin latches it and delivers it
	// once unmasked.
	for i := 0; i < nioapics; i++ {
		a := &ioapics[i]
		for p := uint32(0); p < a.pins; p++ {
			ioapicWrite(a.base, ioapicRedirBase+2*p, redirMasked|redirLevel)
		}
	}
	timerLine = int(isaGSI[irqTimer])
	serialLine = int(isaGSI[irqCOM1])
	route(timerLine, timerLine, gsiFlags[timerLine], false)
	if timerLine == irqTimer {
		// No override for the timer: QEMU's I/O APIC (microvm's MADT has
		// no override) still raises ISA IRQ 0 on pin 2, as PC chipsets
		// wire it. Take both pins; pin 2 is unused otherwise (the PIC
		// cascade).
		route(2, timerLine, 0, false)
	}
	route(serialLine, serialLine, gsiFlags[serialLine], false)
	logs("interrupts: ")
	logu(uint64(nioapics))
	logs(" I/O APIC(s), ")
	logu(uint64(ioapicLines()))
	logs(" lines, timer on GSI ")
	logu(uint64(timerLine))
	logs("\n")
}

// readMADT records the I/O APICs and ISA overrides of the MADT, and
// reports whether there is at least one usable I/O APIC.
func readMADT(rsdp uintptr) bool {
	if rsdp == 0 {
		return false
	}
	madt := findTable(rsdp, "APIC")
	if madt == 0 {
		return false
	}
	end := madt + uintptr(load32(madt+4))
	for e := madt + 44; e+2 <= end; {
		typ, n := bytesAt(e, 2)[0], uintptr(bytesAt(e, 2)[1])
		if n < 2 || e+n > end {
			break
		}
		switch {
		case typ == madtIOAPIC && n >= 12 && nioapics < maxIOAPICs:
			base := uintptr(load32(e + 4))
			if base == 0 || base+0x20 > identTop {
				break
			}
			pins := (ioapicRead(base, ioapicVersion)>>16)&0xff + 1
			ioapics[nioapics] = ioapic{base: base, gsiBase: load32(e + 8), pins: pins}
			nioapics++
		case typ == madtOverride && n >= 10:
			src, gsi := bytesAt(e+3, 1)[0], load32(e+4)
			logs("madt: override irq ")
			logu(uint64(src))
			logs(" gsi ")
			logu(uint64(gsi))
			logs(" flags ")
			logu(uint64(load32(e+8) & 0xffff))
			logs("\n")
			if bytesAt(e+2, 1)[0] == 0 && src < 16 && gsi < maxGSIs {
				isaGSI[src] = uint8(gsi)
				gsiFlags[gsi] = uint16(load32(e+8) & 0xffff)
			}
		}
		e += n
	}
	return nioapics > 0
}

// ioapicLines returns how many interrupt lines the I/O APICs have (capped
// at maxLines, the vectors the kernel has stubs for).
func ioapicLines() int {
	n := 0
	for i := 0; i < nioapics; i++ {
		if top := int(ioapics[i].gsiBase + ioapics[i].pins); top > n {
			n = top
		}
	}
	return min(n, maxGSIs)
}

func ioapicRead(base uintptr, reg uint32) uint32 {
	store32(base+ioapicRegSel, reg)
	return load32(base + ioapicWin)
}

func ioapicWrite(base uintptr, reg, v uint32) {
	store32(base+ioapicRegSel, reg)
	store32(base+ioapicWin, v)
}

// redirection returns the I/O APIC and pin of GSI line.
func redirection(line int) (base uintptr, pin uint32, ok bool) {
	for i := 0; i < nioapics; i++ {
		a := &ioapics[i]
		if uint32(line) >= a.gsiBase && uint32(line) < a.gsiBase+a.pins {
			return a.base, uint32(line) - a.gsiBase, true
		}
	}
	return 0, 0, false
}

// route programs GSI gsi to deliver the vector of line (irqBase+line) to
// this CPU, unmasked, with the trigger mode and polarity of the MADT flags
// (level picks the default when the flags do not say: level for device
// lines, edge for the ISA timer and serial port).
func route(gsi, line int, flags uint16, level bool) {
	base, pin, ok := redirection(gsi)
	if !ok {
		return
	}
	lo := uint32(irqBase + line)
	switch flags & madtTriggerMask {
	case madtTriggerLevel:
		level = true
	case madtTriggerEdge:
		level = false
	}
	if level {
		lo |= redirLevel
	}
	if flags&madtPolarityMask == madtPolarityLow {
		lo |= redirActiveLow
	}
	ioapicWrite(base, ioapicRedirBase+2*pin+1, lapicIDv<<24)
	ioapicWrite(base, ioapicRedirBase+2*pin, lo)

}

// deviceLine turns the line number a driver passed to IRQWait into an
// interrupt line: an ISA IRQ (0-15) goes through the overrides; in I/O APIC
// mode numbers from 16 are GSIs. It returns -1 for lines drivers may not
// take (the timer's, the serial port's, the PIC cascade, out of range).
func deviceLine(n int64) int {
	if n < 0 {
		return -1
	}
	if n >= msiBase {
		if n >= maxLines || msiUsed&(1<<(n-msiBase)) == 0 {
			return -1
		}
		return int(n)
	}
	if !useIOAPIC {
		if n >= irqLinesPIC || n == irqTimer || n == 2 || n == irqCOM1 {
			return -1
		}
		return int(n)
	}
	line := int(n)
	if n < 16 {
		line = int(isaGSI[n])
	}
	if line >= ioapicLines() || line == timerLine || line == serialLine {
		return -1
	}
	if _, _, ok := redirection(line); !ok {
		return -1
	}
	return line
}

// setLineMask masks or unmasks a device line at its controller. Message-
// signalled interrupts are edges that no controller holds: nothing to do.
func setLineMask(line int, masked bool) {
	if line >= msiBase {
		return
	}
	if !useIOAPIC {
		setIRQMask(line, masked)
		return
	}
	if masked {
		irqMasked |= 1 << line
	} else {
		irqMasked &^= 1 << line
	}
	base, pin, ok := redirection(line)
	if !ok {
		return
	}
	if masked {
		lo := ioapicRead(base, ioapicRedirBase+2*pin)
		ioapicWrite(base, ioapicRedirBase+2*pin, lo|redirMasked)
		return
	}
	route(line, line, gsiFlags[line], true)
}

// ackInterrupt acknowledges the interrupt on line at its controller.
func ackInterrupt(line int) {
	if useIOAPIC || line >= msiBase {
		store32(lapicRegs+lapicEOI, 0)
		return
	}
	eoi(line)
}

const sysMSIAlloc = 1009

var msiUsed uint16 // MSI lines handed out (bit i: line msiBase+i)

// sysMSIAllocCall hands out a message-signalled interrupt line and stores
// the message address and data a device must write to raise it at addr and
// data.
func sysMSIAllocCall(addr, data uintptr) int64 {
	if lapicRegs == 0 || optPIC {
		return -_ENODEV // xairrosx.irq=pic: legacy interrupts only
	}
	if !userOK(addr, 8, true) || !userOK(data, 4, true) {
		return -_EFAULT
	}
	for i := 0; i < maxLines-msiBase; i++ {
		if msiUsed&(1<<i) == 0 {
			msiUsed |= 1 << i
			// Fixed delivery, edge, to this CPU's local APIC.
			store64(addr, uint64(msiAddr|lapicIDv<<12))
			store32(data, uint32(irqBase+msiBase+i))
			return int64(msiBase + i)
		}
	}
	return -_EAGAIN // all in use
}

// interruptLines returns how many interrupt lines below the MSI lines the
// kernel routes: the I/O APICs' GSIs, or the PIC's 16 inputs.
func interruptLines() int {
	if useIOAPIC {
		return ioapicLines()
	}
	return irqLinesPIC
}
