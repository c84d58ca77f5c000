// Command bigmem uses more memory than fits below 4 GiB (run it in a guest
// with 6 GiB): physical memory above 4 GiB must be usable.
package main

import (
	"fmt"

	"github.com/xairrosx/xairrosx/kernel"
)

func main() {
	const size = 4<<30 + 512<<20
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i >> 12)
	}
	sum := 0
	for i := 0; i < len(b); i += 4096 {
		sum += int(b[i])
	}
	fmt.Println("touched 4.5 GiB, checksum", sum)
	if kernel.Running() {
		fmt.Println("RAM above 4 GiB in use:", kernel.Memory().TotalBytes > 5<<30)
	}
}
