// Command oom allocates more memory than the machine (or guest) has, so the
// runtime must end with "fatal error: out of memory" and exit status 2, not
// hang. The harness runs it natively under a virtual memory limit.
package main

import (
	"fmt"
	"os"
)

var sink [][]byte

func main() {
	fmt.Println("allocating until the runtime gives up")
	// One huge allocation first: more than any test guest's memory.
	b := make([]byte, 8<<30)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	sink = append(sink, b)
	fmt.Println("8 GiB allocation succeeded; this should not happen")
	os.Exit(0)
}
