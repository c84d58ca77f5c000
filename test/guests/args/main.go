// Command args prints its arguments and selected environment variables and
// exits with the status given by the last argument, if it is a number.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	fmt.Printf("argv0 base: %q\n", filepath.Base(os.Args[0]))
	fmt.Println("argc:", len(os.Args))
	for i, a := range os.Args[1:] {
		fmt.Printf("arg %d: %q\n", i+1, a)
	}
	for _, name := range []string{"GUEST_ONE", "GUEST_SPACES", "GUEST_EMPTY", "GUEST_QUOTES", "GUEST_MISSING", "HOME_NOT_PASSED"} {
		v, ok := os.LookupEnv(name)
		fmt.Printf("env %s: %q set=%v\n", name, v, ok)
	}
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[len(os.Args)-1]); err == nil {
			fmt.Println("exiting with", n)
			os.Exit(n)
		}
	}
}
