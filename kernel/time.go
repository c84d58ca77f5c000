package kernel

import (
	"math/bits"

	"github.com/xairrosx/xairrosx/arch/amd64"
)

// Time: the TSC, calibrated at boot against the 8254 PIT, gives monotonic
// nanoseconds; the CMOS RTC read at boot anchors wall-clock time. The PIT's
// channel 0 then interrupts at tickHz to drive timeouts and preemption.

const (
	pitHz  = 1193182
	tickHz = 1000

	pitCh0  = 0x40
	pitCmd  = 0x43
	cmosIdx = 0x70
	cmosDat = 0x71
)

var (
	tscBase   uint64 // TSC at boot
	tscMult   uint64 // ns = (tsc-tscBase) * tscMult >> 32
	tscHz     uint64
	wallBase  int64 // Unix time in ns at boot
	tickCount uint64
)

// pitCount latches and reads channel 0's current count.
func pitCount() uint16 {
	amd64.Outb(pitCmd, 0x00)
	lo := amd64.Inb(pitCh0)
	hi := amd64.Inb(pitCh0)
	return uint16(hi)<<8 | uint16(lo)
}

// calibrateTSC measures the TSC's frequency over 20 ms of PIT time by
// polling channel 0 counting down from 65536 in mode 2.
func calibrateTSC() {
	amd64.Outb(pitCmd, 0x34) // channel 0, lobyte/hibyte, mode 2
	amd64.Outb(pitCh0, 0)
	amd64.Outb(pitCh0, 0)
	const want = pitHz / 50 // 20 ms
	last := pitCount()
	var elapsed uint64
	t0 := amd64.Rdtsc()
	for elapsed < want {
		c := pitCount()
		elapsed += uint64(last - c) // wraps correctly through 65536
		last = c
	}
	t1 := amd64.Rdtsc()
	tscHz = (t1 - t0) * pitHz / elapsed
	if tscHz == 0 {
		tscHz = 1e9
	}
	tscMult = (uint64(1e9) << 32) / tscHz
	tscBase = t0
}

// startTick programs channel 0 to interrupt at tickHz.
func startTick() {
	const div = (pitHz + tickHz/2) / tickHz
	amd64.Outb(pitCmd, 0x34)
	amd64.Outb(pitCh0, div&0xff)
	amd64.Outb(pitCh0, div>>8)
}

// nanotime returns monotonic nanoseconds since boot.
func nanotime() int64 {
	d := amd64.Rdtsc() - tscBase
	hi, lo := bits.Mul64(d, tscMult)
	return int64(hi<<32 | lo>>32)
}

// walltime returns Unix time in nanoseconds.
func walltime() int64 { return wallBase + nanotime() }

func cmosRead(reg uint8) uint8 {
	amd64.Outb(cmosIdx, reg)
	return amd64.Inb(cmosDat)
}

func bcd(v uint8) uint8 { return v>>4*10 + v&15 }

// readRTC reads the CMOS clock (waiting out an update in progress) and sets
// wallBase.
func readRTC() {
	for i := 0; i < 1<<20 && cmosRead(0x0A)&0x80 != 0; i++ {
	}
	sec, min, hour := cmosRead(0x00), cmosRead(0x02), cmosRead(0x04)
	day, mon, year, cent := cmosRead(0x07), cmosRead(0x08), cmosRead(0x09), cmosRead(0x32)
	statusB := cmosRead(0x0B)
	pm := hour&0x80 != 0
	hour &= 0x7f
	if statusB&0x04 == 0 {
		sec, min, hour, day, mon, year, cent = bcd(sec), bcd(min), bcd(hour), bcd(day), bcd(mon), bcd(year), bcd(cent)
	}
	if statusB&0x02 == 0 && pm {
		hour = (hour + 12) % 24
	}
	y := int64(year)
	if cent >= 19 && cent <= 30 {
		y += int64(cent) * 100
	} else {
		y += 2000
	}
	days := daysFromCivil(y, int64(mon), int64(day))
	secs := days*86400 + int64(hour)*3600 + int64(min)*60 + int64(sec)
	wallBase = secs*1e9 - nanotime()
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// PIC (8259A) setup: remap IRQs 0-15 to vectors 32-47, all masked
// (initInterrupts opens the lines it uses, or leaves the PICs off).
const (
	picMaster = 0x20
	picSlave  = 0xA0
	irqBase   = 32
	irqTimer  = 0
	irqCOM1   = 4
)

func initPIC() {
	amd64.Outb(picMaster, 0x11)
	amd64.Outb(picSlave, 0x11)
	amd64.Outb(picMaster+1, irqBase)
	amd64.Outb(picSlave+1, irqBase+8)
	amd64.Outb(picMaster+1, 4)
	amd64.Outb(picSlave+1, 2)
	amd64.Outb(picMaster+1, 1)
	amd64.Outb(picSlave+1, 1)
	amd64.Outb(picMaster+1, 0xff)
	amd64.Outb(picSlave+1, 0xff)
}

// Local APIC (Intel SDM Vol. 3A, chapter 11), used here only in virtual
// wire mode: LINT0 delivers the 8259's interrupts as ExtINT and LINT1 is
// NMI. Firmware sets this on pc and q35; on microvm nothing does, and
// without it no PIC interrupt (the timer among them) reaches the CPU.
const (
	msrAPICBase    = 0x1B
	apicBaseEnable = 1 << 11
	lapicSVR       = 0xF0
	lapicLINT0     = 0x350
	lapicLINT1     = 0x360
	lapicTPR       = 0x80
	lvtExtINT      = 0x700
	lvtNMI         = 0x400
)

func initLAPIC() {
	if cpuidEDX1&(1<<9) == 0 { // no APIC: the PIC drives INTR directly
		return
	}
	base := amd64.Rdmsr(msrAPICBase)
	if base&apicBaseEnable == 0 {
		amd64.Wrmsr(msrAPICBase, base|apicBaseEnable)
	}
	regs := uintptr(base &^ 0xFFF)
	if regs >= identTop {
		return
	}
	lapicRegs = regs
	lapicIDv = load32(regs+lapicID) >> 24
	store32(regs+lapicTPR, 0)
	store32(regs+lapicSVR, 0x100|0xFF) // enabled, spurious vector 255
	store32(regs+lapicLINT0, lvtExtINT)
	store32(regs+lapicLINT1, lvtNMI)
}

// eoi acknowledges an IRQ at the PIC(s).
func eoi(irq int) {
	if irq >= 8 {
		amd64.Outb(picSlave, 0x20)
	}
	amd64.Outb(picMaster, 0x20)
}
