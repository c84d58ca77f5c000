// Command hello prints one line and exits 0: the smallest guest, used for
// boot tests on every machine type and for the boot-time benchmark.
package main

import "fmt"

func main() {
	fmt.Println("hello, world")
}
