package vfs_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// FuzzDiff is the conformance test with a fuzzed script: the bytes choose
// operations, which run on the XairrosX FS and on the host kernel side by
// side, and every result must agree. Paths never climb above the base
// directory: ".." only comes as "a/..", and symbolic link targets are
// plain names, so a link always points below its own directory.
// Seeds are in testdata/fuzz/FuzzDiff; run with
// go test -run '^$' -fuzz FuzzDiff -fuzzminimizetime 1s ./fs/vfs
func FuzzDiff(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 1, 0x11, 0x41, 3, 1, 0, 0, 12, 1, 0, 5})
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 0, 9, 1, 0, 2, 7, 2, 0, 0, 13, 0, 2, 0, 5, 1, 0, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		v, h := newTargets(t)
		old := syscall.Umask(0o022)
		defer syscall.Umask(old)
		rv := &runner{tg: v, slots: map[string]int{}}
		rh := &runner{tg: h, slots: map[string]int{}}
		var done []string
		for i := 0; len(prog) >= 4 && i < 64; i++ {
			w := diffStep(prog[0], prog[1], prog[2], prog[3])
			prog = prog[4:]
			done = append(done, strings.Join(w, " "))
			if got, want := rv.step(w), rh.step(w); got != want {
				t.Fatalf("after\n\t%s\nxairrosx: %s\nhost:     %s", strings.Join(done, "\n\t"), got, want)
			}
		}
		for _, fd := range rv.slots {
			v.close(fd)
		}
	})
}

var (
	diffUnits   = []string{"a", "b", "c", "l", "a/..", "."}
	diffTargets = []string{"a", "b", "c", "l", "a/b", "l/c"}
	diffFlags   = []string{"RDONLY", "WRONLY|CREAT", "RDWR|CREAT|EXCL", "RDWR|TRUNC", "WRONLY|APPEND",
		"RDONLY|DIRECTORY", "RDONLY|NOFOLLOW", "RDWR|CREAT|TRUNC", "RDONLY|CREAT|DIRECTORY", "PATH"}
)

// diffPath makes a path of 1 to 3 units.
func diffPath(b byte) string {
	n := int(b&3)%3 + 1
	parts := make([]string, n)
	for i := range parts {
		b = b*7 + 3
		parts[i] = diffUnits[int(b>>2)%len(diffUnits)]
	}
	p := strings.Join(parts, "/")
	if b&0x80 != 0 && p != "." {
		p += "/"
	}
	return p
}

// diffStep turns 4 bytes into one script step.
func diffStep(op, x, y, z byte) []string {
	slot := fmt.Sprintf("S%d", x%4)
	p, q := diffPath(y), diffPath(z)
	dir := fmt.Sprintf("S%d", z%4)
	switch op % 30 {
	case 0:
		return []string{"mkdir", p, "0755"}
	case 1, 2:
		return []string{"open", slot, p, diffFlags[int(z)%len(diffFlags)]}
	case 3:
		return []string{"close", slot}
	case 4:
		return []string{"write", slot, strings.Repeat("xy", int(z%9))}
	case 5:
		return []string{"pread", slot, fmt.Sprint(z % 8), fmt.Sprint(y % 16)}
	case 6:
		return []string{"read", slot, fmt.Sprint(z % 16)}
	case 7:
		return []string{"unlink", p}
	case 8:
		return []string{"rmdir", p}
	case 9:
		return []string{"rename", p, q}
	case 10:
		return []string{"link", p, q}
	case 11:
		return []string{"symlink", diffTargets[int(z)%len(diffTargets)], p}
	case 12:
		return []string{"stat", p}
	case 13:
		return []string{"lstat", p}
	case 14:
		return []string{"lsat", p}
	case 15:
		return []string{"ls", slot}
	case 16:
		return []string{"readlink", p}
	case 17:
		return []string{"ftruncate", slot, fmt.Sprint(int(z%20) - 2)}
	case 18:
		return []string{"seek", slot, fmt.Sprint(int(int8(z)) % 20), []string{"set", "cur", "end"}[y%3]}
	case 19:
		return []string{"dup", fmt.Sprintf("S%d", z%4), slot}
	case 20:
		return []string{"flock", slot, []string{"sh", "ex", "un"}[z%3], "nb"}
	case 21:
		return []string{"chmod", p, fmt.Sprintf("%o", 0o600|int(z&0o177))}
	case 22:
		return []string{"access", p, []string{"f", "r", "w", "x", "rwx"}[z%5]}
	case 23:
		return []string{"fstat", slot}
	case 24:
		return []string{"pwrite", slot, fmt.Sprint(z % 12), "pq"}
	case 25:
		return []string{"fallocate", slot, []string{"alloc", "keep", "punch", "zero", "punchonly"}[z%5], fmt.Sprint(y % 8), fmt.Sprint(int(z%10) - 1)}
	case 26:
		return []string{"openat", slot, dir, p, diffFlags[int(op>>5)%len(diffFlags)]}
	case 27:
		return []string{[]string{"unlinkat", "rmdirat"}[z&1], dir, p}
	case 28:
		return []string{"fsync", slot}
	default:
		return []string{"getdents", slot, []string{"20", "4096"}[z&1]}
	}
}
