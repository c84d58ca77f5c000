package kernel

import (
	"github.com/xairrosx/xairrosx/arch/amd64"
)

// booted is set when the kernel runs (the image was entered at its PVH entry
// point); on a Linux host it stays false.
var booted bool

// CPU features the kernel found.
var (
	cpuVendor   [12]byte
	cpuBrand    [48]byte
	cpuidEDX1   uint32
	cpuidECX1   uint32
	cpuidEBX7   uint32
	cpuidECX7   uint32
	hasAVX      bool
	hasAVX512   bool
	hasFSGSBASE bool
)

const imageStart = 0x100000

// kmain is the kernel's boot path (reached from arch/amd64's entry64 through
// a linkname), on the boot CPU's kernel stack with interrupts off, before
// the Go runtime exists. It ends by entering the first thread at the
// runtime's entry point, and never returns.
func kmain(startInfo uintptr) {
	booted = true
	uartInit(com1, true)
	uartInit(com2, false)
	if !readBootInfo(startInfo) {
		prints("xairrosx: no PVH start info (boot with QEMU -kernel)\n")
		exitQEMU(exitKernelFault)
	}
	splitCmdline()
	parseKernelOptions()
	quiet = !optLog
	logs("XairrosX kernel\n")

	initCPU()

	readEBDA() // page 0 is still mapped by the boot page tables
	end := (amd64.ImageEnd() + pageSize - 1) &^ (pageSize - 1)
	imageEnd = end
	initFrames(imageStart, end, 0, 4<<30)
	top := uintptr(4 << 30)
	for i := 0; i < nregions; i++ {
		if regions[i].end > top && regions[i].end <= 512<<30 {
			top = (regions[i].end + (1<<30 - 1)) &^ (1<<30 - 1)
		}
	}
	if !initPaging(top) {
		prints("xairrosx: out of memory building page tables\n")
		exitQEMU(exitKernelFault)
	}
	initFrames(imageStart, end, 4<<30, top) // RAM above 4 GiB, now mapped
	logs("memory: ")
	logu(totalFrames * pageSize >> 20)
	logs(" MiB usable, image ")
	logu(uint64(end-imageStart) >> 10)
	logs(" KiB\n")

	cpu = amd64.BootCPU()
	cpu.KStack = amd64.KernelStackTop()
	cpu.XMask = xsaveMask
	if hasFSGSBASE {
		amd64.WriteCR4(amd64.ReadCR4() | 1<<16) // CR4.FSGSBASE
		cpu.FSGSBase = 1
	}
	amd64.LoadGDT(amd64.KernelStackTop(), amd64.ISTStackTop())
	amd64.LoadIDT()
	amd64.SetupSyscall()

	initACPI(startInfo)
	logs("acpi: ")
	if acpiHaveS5 {
		logs("power-off via ")
		if acpiPM1a != 0 {
			logs("PM1a_CNT port ")
			logu(uint64(acpiPM1a))
		} else {
			logs("sleep control register ")
			logu(uint64(acpiSleepCtl) + uint64(acpiSleepMem))
		}
		logs(", S5 type ")
		logu(uint64(acpiSlpTyp))
	} else {
		logs("no S5 power-off")
	}
	if acpiReset != 0 {
		logs(", reset port ")
		logu(uint64(acpiReset))
	}
	logs("\n")
	calibrateTSC()
	readRTC()
	rngSeed()
	initInterrupts(startInfo)
	startTick()
	initFDs()
	vdsoAddr = initVDSO()
	logs("tsc: ")
	logu(tscHz / 1e6)
	logs(" MHz, timer ")
	logu(tickHz)
	logs(" Hz\n")

	i := startFirstThread()
	if i < 0 {
		prints("xairrosx: cannot create the first thread\n")
		exitQEMU(exitKernelFault)
	}
	logs("starting Go runtime at ")
	logu(uint64(nanotime() / 1e3))
	logs(" us\n")
	f := cpu.KStack - amd64.FrameSize
	current = -1
	fr := (*amd64.Frame)(addrPtr(f))
	switchTo(i, fr)
	amd64.EnterFrame(f)
}

// initCPU reads CPUID and enables the extended state (x87, SSE, AVX and
// AVX-512 where present) with XSAVE.
func initCPU() {
	_, b, c, d := amd64.CPUID(0, 0)
	putWord := func(dst []byte, v uint32) {
		dst[0], dst[1], dst[2], dst[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	putWord(cpuVendor[0:4], b)
	putWord(cpuVendor[4:8], d)
	putWord(cpuVendor[8:12], c)
	if maxExt, _, _, _ := amd64.CPUID(0x80000000, 0); maxExt >= 0x80000004 {
		for i := uint32(0); i < 3; i++ {
			a, b, c, d := amd64.CPUID(0x80000002+i, 0)
			putWord(cpuBrand[16*i:], a)
			putWord(cpuBrand[16*i+4:], b)
			putWord(cpuBrand[16*i+8:], c)
			putWord(cpuBrand[16*i+12:], d)
		}
	}
	_, _, cpuidECX1, cpuidEDX1 = amd64.CPUID(1, 0)
	_, cpuidEBX7, cpuidECX7, _ = amd64.CPUID(7, 0)
	haveRdrand = cpuidECX1&(1<<30) != 0
	haveRdseed = cpuidEBX7&(1<<18) != 0
	hasFSGSBASE = cpuidEBX7&1 != 0
	if cpuidECX1&(1<<26) == 0 {
		prints("xairrosx: the CPU has no XSAVE; use -cpu max\n")
		exitQEMU(exitKernelFault)
	}
	amd64.WriteCR4(amd64.ReadCR4() | 1<<18) // OSXSAVE
	supported, _, _, _ := amd64.CPUID(0xD, 0)
	mask := uint64(3) // x87, SSE
	if cpuidECX1&(1<<28) != 0 && supported&4 != 0 {
		mask |= 4 // AVX
		hasAVX = true
	}
	if cpuidEBX7&(1<<16) != 0 && supported&0xE0 == 0xE0 {
		mask |= 0xE0 // opmask, ZMM_Hi256, Hi16_ZMM
		hasAVX512 = true
	}
	amd64.Xsetbv(0, mask)
	xsaveMask = mask
	_, size, _, _ := amd64.CPUID(0xD, 0)
	xsaveSize = uintptr(size)
	if xsaveSize > pageSize {
		prints("xairrosx: XSAVE area too large\n")
		exitQEMU(exitKernelFault)
	}
}

// Auxiliary vector keys (elf.h).
const (
	atNull        = 0
	atPagesz      = 6
	atUID         = 11
	atEUID        = 12
	atGID         = 13
	atEGID        = 14
	atPlatform    = 15
	atHwcap       = 16
	atClktck      = 17
	atSecure      = 23
	atRandom      = 25
	atExecfn      = 31
	atSysinfoEhdr = 33
)

// startFirstThread creates the first thread with a Linux-style initial
// stack (argc, argv, envp, auxv) at the top of an 8 MiB stack area, and
// returns its index.
func startFirstThread() int {
	i := newThread()
	if i < 0 {
		return -1
	}
	t := &threads[i]
	initXsave(t.xsave)
	base := uintptr(userTop - stackSize)
	if !insertVMA(base, userTop, protRead|protWrite) {
		return -1
	}
	// Back the top pages now; the rest is demand-zero.
	for a := uintptr(userTop - 4*pageSize); a < userTop; a += pageSize {
		if handleUserFault(a, pfWrite) != faultMapped {
			return -1
		}
	}
	p := uintptr(userTop)
	push := func(b []byte) uintptr {
		p -= uintptr(len(b) + 1)
		copy(bytesAt(p, len(b)+1), b)
		bytesAt(p+uintptr(len(b)), 1)[0] = 0
		return p
	}
	var strs [256]uintptr
	ns := 0
	// argv[0], then the words after "--"; env from NAME=VALUE words before.
	strs[ns] = push(argv0())
	ns++
	argc := 1
	if dashdash >= 0 {
		for w := dashdash + 1; w < nwords && ns < 200; w++ {
			strs[ns] = push(wordBytes(w))
			ns++
			argc++
		}
	}
	envc := 0
	for w := 0; w < nwords && (dashdash < 0 || w < dashdash) && ns < 250; w++ {
		if isEnvWord(w) {
			strs[ns] = push(wordBytes(w))
			ns++
			envc++
		}
	}
	platform := push(platformName[:])
	p -= 16
	random := p
	randomFill(bytesAt(random, 16))
	execfn := strs[0]

	auxv := [...]uint64{
		atPagesz, pageSize,
		atClktck, 100,
		atHwcap, uint64(cpuidEDX1),
		atUID, 0, atEUID, 0, atGID, 0, atEGID, 0,
		atSecure, 0,
		atRandom, uint64(random),
		atPlatform, uint64(platform),
		atExecfn, uint64(execfn),
		atSysinfoEhdr, uint64(vdsoAddr),
		atNull, 0,
	}
	nwordsStack := 1 + argc + 1 + envc + 1 + len(auxv)
	sp := (p - uintptr(nwordsStack)*8) &^ 15
	w := sp
	put := func(v uint64) {
		store64(w, v)
		w += 8
	}
	put(uint64(argc))
	for k := 0; k < argc; k++ {
		put(uint64(strs[k]))
	}
	put(0)
	for k := 0; k < envc; k++ {
		put(uint64(strs[argc+k]))
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	t.regs = amd64.Frame{
		RIP:    uint64(amd64.RuntimeEntry()),
		CS:     amd64.UserCS,
		RFLAGS: amd64.UserFlags,
		RSP:    uint64(sp),
		SS:     amd64.UserDS,
	}
	t.state = tsRunnable
	return i
}

var vdsoAddr uintptr

var platformName = [...]byte{'x', '8', '6', '_', '6', '4'}
