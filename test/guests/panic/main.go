// Command panic ends in an unrecovered panic, which prints the panic value
// and a goroutine trace and exits with status 2.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("before the panic")
	fmt.Fprintln(os.Stderr, "a line on stderr")
	panic(fmt.Sprintf("unrecovered: %d", 42))
}
