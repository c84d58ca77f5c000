// Command poweroff asks the kernel to power the machine off (or to reset it,
// with the argument "reset") through reboot(2), as an init system would.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	cmd := syscall.LINUX_REBOOT_CMD_POWER_OFF
	if len(os.Args) > 1 && os.Args[1] == "reset" {
		cmd = syscall.LINUX_REBOOT_CMD_RESTART
	}
	fmt.Println("going down")
	err := syscall.Reboot(cmd)
	fmt.Println("still running:", err)
	os.Exit(1)
}
