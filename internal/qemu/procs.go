package qemu

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// QEMUProcesses returns the ids of running processes whose command line
// mentions qemu-system and contains the string s (e.g. an image path). Tests
// use it to check that no QEMU outlives its run.
func QEMUProcesses(s string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("qemu-system")) || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue // a zombie is already dead
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		pids = append(pids, pid)
	}
	return pids
}
