// Package system is what every XairrosX image imports (the xairrosx build
// tool adds the import): the kernel core and the services that run above it
// as goroutines. On a Linux host importing it changes nothing.
package system

import (
	// The kernel core: boot, traps, memory, threads, system calls.
	_ "github.com/xairrosx/xairrosx/kernel"
	// File systems: serves the file system calls the kernel forwards.
	_ "github.com/xairrosx/xairrosx/services/fsys"
)
