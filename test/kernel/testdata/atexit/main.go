// Command atexit registers exit hooks with the kernel and then leaves in the
// way its argument says: "exit" (os.Exit(3)), "return" (main returns) or
// "poweroff" (reboot(2)). The hooks must run, newest first, before the
// machine goes off, while other goroutines still run, and the exit status
// must be the program's.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/kernel"
)

func main() {
	ticks := make(chan int)
	go func() {
		for i := 0; ; i++ {
			ticks <- i
		}
	}()
	kernel.AtExit(func() { fmt.Println("hook 1") })
	kernel.AtExit(func() {
		// Other goroutines keep running while hooks do.
		<-ticks
		time.Sleep(10 * time.Millisecond)
		fmt.Println("hook 2, other goroutines running:", <-ticks > 0)
	})
	fmt.Println("main done")
	switch os.Args[1] {
	case "exit":
		os.Exit(3)
	case "poweroff":
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
		fmt.Println("still running")
	}
}
