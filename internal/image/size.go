package image

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a memory size in QEMU's -m style: a number with an
// optional suffix K, M, G or T (powers of 1024, optionally followed by "B"
// or "iB"). A bare number means MiB, as in QEMU.
func ParseSize(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	shift := 20
	if t != "" {
		if i := strings.IndexByte("KMGT", t[len(t)-1]); i >= 0 {
			shift = 10 * (i + 1)
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad memory size %q: want a positive number with an optional K, M or G suffix (e.g. 256M)", s)
	}
	if n > (1<<63)>>shift {
		return 0, fmt.Errorf("memory size %q is too large", s)
	}
	return n << shift, nil
}

// FormatSize writes n bytes in the largest binary unit that divides it,
// e.g. "256M" (the form QEMU's -m accepts).
func FormatSize(n uint64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n != 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n != 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
