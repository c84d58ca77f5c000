package main

import (
	"os"

	"github.com/xairrosx/xairrosx/images/node/shell"
)

// system returns what the shell reports on. The kernel's introspection
// API (kernel.Running, Memory, Threads, Uptime, CPU, BootLog) is not in the
// kernel package yet; until it is, the shell reports through the host
// implementation, which falls back to the Go runtime's own figures where
// /proc does not exist.
func system() shell.System { return shell.Host{Start: start} }

// onKernel reports whether the program runs on XairrosX, which has no
// /proc (to become kernel.Running once the kernel exports it).
func onKernel() bool {
	_, err := os.Stat("/proc/self/stat")
	return err != nil
}
