package kernel

// Self-tests triggered by the kernel option xairrosx.selftest=NAME, for the
// QEMU tests that check how the kernel fails (test/kernel):
//
//	fault: the program's first write(2) dereferences a nil pointer in
//	       kernel context, which must end in a kernel fault report
//	       (exception, registers, symbolized stack) and exit status 101.

var selftestFault bool

// parseSelftest reads xairrosx.selftest from the command line.
func parseSelftest() {
	for i := 0; i < nwords && (dashdash < 0 || i < dashdash); i++ {
		if equal(wordBytes(i), "xairrosx.selftest=fault") {
			selftestFault = true
		}
	}
}

// selftestNilDereference faults in kernel context on purpose.
//
//go:noinline
func selftestNilDereference(p *uint64) uint64 {
	return *p + 1
}
