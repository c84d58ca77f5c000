package amd64

// VDSOData is what the vDSO's clock reads in user mode: the TSC at boot, the
// TSC-to-nanoseconds multiplier (ns = delta*mult >> 32) and the Unix time at
// boot in nanoseconds. The kernel sets it once at boot.
var VDSOData [3]uint64

// VDSOClockGettime returns the address of the vDSO's clock_gettime
// (vdso_amd64.s); the kernel's vDSO image points its symbol there.
func VDSOClockGettime() uintptr { return vdsoClockGettimeAddr() }

func vdsoClockGettime()
func vdsoClockGettimeAddr() uintptr
