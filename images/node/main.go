// Command node is the default XairrosX node image (make run): it prints the
// kernel's boot log and a banner, then runs a small shell on the serial
// console until halt. On a Linux host it runs the same shell with host
// figures.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/xairrosx/xairrosx/images/node/shell"
)

var start = time.Now()

func main() {
	sys := system()
	for _, l := range sys.BootLog() {
		fmt.Println(l)
	}
	fmt.Printf("XairrosX node shell on %s. Type help for the commands, halt to stop.\n", sys.Name())
	sh := &shell.Shell{In: os.Stdin, Out: os.Stdout, Sys: sys, Echo: echo()}
	os.Exit(sh.Run())
}

// echo reports whether the shell must echo typed characters: on a serial
// console (the kernel's) and on a raw terminal nothing else does; on a
// cooked host terminal the terminal echoes by itself.
func echo() bool {
	st, err := os.Stdin.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice == 0 || onKernel()
}
