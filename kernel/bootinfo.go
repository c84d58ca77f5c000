package kernel

// PVH boot information (Xen's hvm_start_info, version 0 and 1), as QEMU's
// -kernel loader provides it, and the kernel command line.

const pvhMagic = 0x336ec578

// Offsets in hvm_start_info.
const (
	siMagic         = 0
	siVersion       = 4
	siCmdline       = 24
	siMemmap        = 40
	siMemmapEntries = 48
)

// Memory-map entry types (E820 numbering).
const memRAM = 1

// memRegion is one RAM range of the memory map.
type memRegion struct{ base, end uintptr }

var (
	regions  [64]memRegion
	nregions int
	cmdline  [4096]byte
	cmdlen   int
)

// readBootInfo copies the command line and the RAM regions out of the start
// info. Without a memory map (version 0) it falls back to the CMOS memory
// size registers QEMU sets.
func readBootInfo(si uintptr) bool {
	if load32(si+siMagic) != pvhMagic {
		return false
	}
	if p := uintptr(load64(si + siCmdline)); p != 0 {
		for cmdlen < len(cmdline)-1 {
			c := bytesAt(p+uintptr(cmdlen), 1)[0]
			if c == 0 {
				break
			}
			cmdline[cmdlen] = c
			cmdlen++
		}
	}
	if load32(si+siVersion) >= 1 && load64(si+siMemmap) != 0 {
		mm := uintptr(load64(si + siMemmap))
		n := int(load32(si + siMemmapEntries))
		for i := 0; i < n && nregions < len(regions); i++ {
			e := mm + uintptr(i)*24
			if load32(e+16) != memRAM {
				continue
			}
			regions[nregions] = memRegion{uintptr(load64(e)), uintptr(load64(e) + load64(e+8))}
			nregions++
		}
	}
	if nregions == 0 {
		// CMOS 0x34/0x35: RAM above 16 MiB in 64 KiB units (below 4 GiB).
		hi := uint64(cmosRead(0x35))<<8 | uint64(cmosRead(0x34))
		regions[0] = memRegion{0, 640 << 10}
		regions[1] = memRegion{1 << 20, uintptr(16<<20 + hi<<16)}
		nregions = 2
	}
	return true
}

// Kernel options parsed from the command line.
var (
	optStrace bool
	optLog    bool
)

// cmdWord is one word of the command line after unquoting, as a range of
// wordBuf.
type cmdWord struct{ off, n int }

var (
	wordBuf  [4096]byte
	words    [256]cmdWord
	nwords   int
	dashdash = -1 // index of the lone "--" word, or -1
)

// splitCmdline splits the command line into words: spaces separate words;
// double quotes group, and inside them \" and \\ escape. This is the kernel
// side of internal/cmdline's quoting.
func splitCmdline() {
	w := 0
	i := 0
	for i < cmdlen && nwords < len(words) {
		for i < cmdlen && (cmdline[i] == ' ' || cmdline[i] == '\t' || cmdline[i] == '\n') {
			i++
		}
		if i >= cmdlen {
			break
		}
		start := w
		quoted := false
		inq := false
		for i < cmdlen {
			c := cmdline[i]
			if !inq && (c == ' ' || c == '\t' || c == '\n') {
				break
			}
			i++
			if c == '"' {
				inq = !inq
				quoted = true
				continue
			}
			if inq && c == '\\' && i < cmdlen && (cmdline[i] == '"' || cmdline[i] == '\\') {
				c = cmdline[i]
				i++
			}
			if w < len(wordBuf) {
				wordBuf[w] = c
				w++
			}
		}
		words[nwords] = cmdWord{start, w - start}
		if !quoted && w-start == 2 && wordBuf[start] == '-' && wordBuf[start+1] == '-' && dashdash < 0 {
			dashdash = nwords
		}
		nwords++
	}
}

func wordBytes(i int) []byte { return wordBuf[words[i].off : words[i].off+words[i].n] }

func hasPrefix(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b[i] != p[i] {
			return false
		}
	}
	return true
}

func equal(b []byte, s string) bool { return len(b) == len(s) && hasPrefix(b, s) }

// isKernelOpt reports whether word i (before "--") is a kernel option.
func isKernelOpt(i int) bool { return hasPrefix(wordBytes(i), "xairrosx.") }

// parseKernelOptions applies the xairrosx.* options.
func parseKernelOptions() {
	for i := 0; i < nwords && (dashdash < 0 || i < dashdash); i++ {
		w := wordBytes(i)
		switch {
		case equal(w, "xairrosx.strace=1"):
			optStrace = true
		case equal(w, "xairrosx.log=1"):
			optLog = true
		case equal(w, irqOptionPIC):
			optPIC = true
		}
	}
	parseSelftest()
}

// argv0 returns the value of xairrosx.argv0, or "init".
func argv0() []byte {
	for i := 0; i < nwords && (dashdash < 0 || i < dashdash); i++ {
		if w := wordBytes(i); hasPrefix(w, "xairrosx.argv0=") {
			return w[len("xairrosx.argv0="):]
		}
	}
	return defaultArgv0[:]
}

var defaultArgv0 = [...]byte{'i', 'n', 'i', 't'}

// isEnvWord reports whether word i (before "--") is NAME=VALUE.
func isEnvWord(i int) bool {
	if isKernelOpt(i) {
		return false
	}
	for _, c := range wordBytes(i) {
		if c == '=' {
			return true
		}
	}
	return false
}
