package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// ACPI power-off and reset (ACPI 6.4, sections 4.8 and 5.2): the kernel
// finds the RSDP (from the PVH start info, or by scanning the BIOS areas),
// the FADT through the RSDT or XSDT, and the \_S5 sleep type in the DSDT.
// Power-off writes SLP_TYPa|SLP_EN to PM1a_CNT (or, on hardware-reduced
// platforms such as QEMU's microvm, to the sleep control register); reset
// uses the FADT's reset register, then the keyboard controller.

var (
	acpiPM1a     uint16 // PM1a control block port
	acpiPM1b     uint16
	acpiSleepCtl uint16  // hardware-reduced sleep control register (port)
	acpiSleepMem uintptr // the same register when it is memory-mapped
	acpiSlpTyp   uint16  // \_S5 SLP_TYPa
	acpiHaveS5   bool
	acpiReset    uint16  // reset register (I/O port), 0 if none
	acpiResetMem uintptr // the same when it is memory-mapped
	acpiResetVal uint8
)

const siRSDP = 32

// ebdaBase is the Extended BIOS Data Area's address, read from the BIOS
// data area (physical 0x40E, in page 0) by readEBDA while page 0 is still
// mapped; 0 if there is none.
var ebdaBase uintptr

func readEBDA() {
	if b := uintptr(*(*uint16)(addrPtr(0x40E))) << 4; b >= 0x80000 && b < 0xA0000 {
		ebdaBase = b
	}
}

func checksumOK(a uintptr, n int) bool {
	var sum byte
	for _, b := range bytesAt(a, n) {
		sum += b
	}
	return sum == 0
}

func sigAt(a uintptr, sig string) bool { return equal(bytesAt(a, len(sig)), sig) }

// findRSDP returns the RSDP's address, or 0.
func findRSDP(si uintptr) uintptr {
	if p := uintptr(load64(si + siRSDP)); p != 0 && p < identTop && sigAt(p, "RSD PTR ") {
		return p
	}
	ebda := ebdaBase
	for _, r := range [2][2]uintptr{{ebda, ebda + 1024}, {0xE0000, 0x100000}} {
		if r[0] == 0 {
			continue
		}
		for a := r[0]; a+20 <= r[1]; a += 16 {
			if sigAt(a, "RSD PTR ") && checksumOK(a, 20) {
				return a
			}
		}
	}
	return 0
}

// findTable returns the address of the ACPI table with signature sig.
func findTable(rsdp uintptr, sig string) uintptr {
	entry, root := uintptr(4), uintptr(load32(rsdp+16))
	if bytesAt(rsdp+15, 1)[0] >= 2 && load64(rsdp+24) != 0 {
		entry, root = 8, uintptr(load64(rsdp+24))
	}
	if root == 0 || root >= identTop {
		return 0
	}
	n := (uintptr(load32(root+4)) - 36) / entry
	for i := uintptr(0); i < n; i++ {
		var t uintptr
		if entry == 8 {
			t = uintptr(load64(root + 36 + i*8))
		} else {
			t = uintptr(load32(root + 36 + i*4))
		}
		if t != 0 && t < identTop && sigAt(t, sig) {
			return t
		}
	}
	return 0
}

// gasRegister decodes a Generic Address Structure at a: an I/O port, or a
// memory address the identity map reaches (the other is 0).
func gasRegister(a uintptr) (port uint16, mem uintptr) {
	switch addr := uintptr(load64(a + 4)); bytesAt(a, 1)[0] {
	case 0: // system memory
		if addr < identTop {
			return 0, addr
		}
	case 1: // system I/O
		return uint16(addr), 0
	}
	return 0, 0
}

// initACPI reads what power-off and reset need.
func initACPI(si uintptr) {
	rsdp := findRSDP(si)
	if rsdp == 0 {
		return
	}
	fadt := findTable(rsdp, "FACP")
	if fadt == 0 {
		return
	}
	flen := load32(fadt + 4)
	acpiPM1a = uint16(load32(fadt + 64))
	acpiPM1b = uint16(load32(fadt + 68))
	if flen >= 129 && load32(fadt+112)&(1<<10) != 0 { // RESET_REG_SUP
		acpiResetVal = bytesAt(fadt+128, 1)[0]
		acpiReset, acpiResetMem = gasRegister(fadt + 116)
	}
	if flen >= 256 { // SLEEP_CONTROL_REG (hardware-reduced ACPI)
		acpiSleepCtl, acpiSleepMem = gasRegister(fadt + 244)
	}
	// Legacy platforms start in SMM mode: ask the firmware for ACPI mode
	// (SMI_CMD <- ACPI_ENABLE) so that PM1 writes reach the chipset.
	if smi, enable := uint16(load32(fadt+48)), bytesAt(fadt+52, 1)[0]; acpiPM1a != 0 && smi != 0 && enable != 0 && amd64.Inb(acpiPM1a)&1 == 0 {
		amd64.Outb(smi, enable)
		for i := 0; i < 1<<20 && amd64.Inb(acpiPM1a)&1 == 0; i++ {
		}
	}
	dsdt := uintptr(load32(fadt + 40))
	if flen >= 148 && load64(fadt+140) != 0 {
		dsdt = uintptr(load64(fadt + 140))
	}
	if dsdt == 0 || dsdt >= identTop || !sigAt(dsdt, "DSDT") {
		return
	}
	// Find the \_S5 package: "_S5_" PackageOp PkgLength NumElements
	// then SLP_TYPa as a ByteConst (0x0A nn), Zero (0x00) or One (0x01).
	end := dsdt + uintptr(load32(dsdt+4))
	for a := dsdt + 36; a+8 < end; a++ {
		if !sigAt(a, "_S5_") || bytesAt(a+4, 1)[0] != 0x12 {
			continue
		}
		p := a + 5
		p += uintptr(bytesAt(p, 1)[0]>>6) + 1 // PkgLength
		p++                                   // NumElements
		switch v := bytesAt(p, 2); v[0] {
		case 0x0A:
			acpiSlpTyp, acpiHaveS5 = uint16(v[1]), true
		case 0x00, 0x01:
			acpiSlpTyp, acpiHaveS5 = uint16(v[0]), true
		}
		break
	}
}

// powerOff turns the machine off through ACPI, if it can.
func powerOff() {
	if !acpiHaveS5 {
		return
	}
	if acpiPM1a != 0 {
		amd64.Outw(acpiPM1a, acpiSlpTyp<<10|1<<13)
		if acpiPM1b != 0 {
			amd64.Outw(acpiPM1b, acpiSlpTyp<<10|1<<13)
		}
	}
	v := uint8(acpiSlpTyp&7)<<2 | 1<<5 // SLP_TYPx | SLP_EN
	if acpiSleepCtl != 0 {
		amd64.Outb(acpiSleepCtl, v)
	}
	if acpiSleepMem != 0 {
		bytesAt(acpiSleepMem, 1)[0] = v
	}
}

// reset restarts the machine: the ACPI reset register, then the keyboard
// controller's reset line.
func reset() {
	if acpiReset != 0 {
		amd64.Outb(acpiReset, acpiResetVal)
	}
	if acpiResetMem != 0 {
		bytesAt(acpiResetMem, 1)[0] = acpiResetVal
	}
	for i := 0; i < 1<<16 && amd64.Inb(0x64)&2 != 0; i++ {
	}
	amd64.Outb(0x64, 0xFE)
}

// settle waits up to half a second for a power-off or reset to take effect
// (virtual platforms carry them out asynchronously).
func settle() {
	for end := nanotime() + 500e6; nanotime() < end; {
		amd64.Pause()
	}
}

// Linux reboot(2) magic numbers and commands.
const (
	rebootMagic1    = 0xfee1dead
	rebootMagic2    = 672274793
	rebootPowerOff  = 0x4321FEDC
	rebootRestart   = 0x01234567
	rebootHalt      = 0xCDEF0123
	rebootCadOn     = 0x89ABCDEF
	rebootCadOff    = 0
	sysRebootNumber = 169
)

func sysReboot(magic1, magic2, cmd uint64) int64 {
	if uint32(magic1) != rebootMagic1 || uint32(magic2) != rebootMagic2 {
		return -_EINVAL
	}
	switch uint32(cmd) {
	case rebootPowerOff, rebootHalt:
		exitLine(0)
		powerOff()
		settle()
		exitQEMU(0)
	case rebootRestart:
		exitLine(0)
		reset()
		settle()
		exitQEMU(0)
	case rebootCadOn, rebootCadOff:
		return 0
	}
	return -_EINVAL
}
