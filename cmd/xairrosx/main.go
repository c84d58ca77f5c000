// Command xairrosx is the host tool of XairrosX: it builds Go programs into
// bootable kernel images and boots them under QEMU, and it carries the AI
// engine's and the chain node's command-line interfaces.
//
// Each area registers its subcommands from its own file in this package
// (kernel.go, ai.go, chain.go), so that main.go stays a dispatcher.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one top-level subcommand of xairrosx.
type command struct {
	summary string
	// run executes the subcommand with the arguments after its name and
	// returns the process exit status.
	run func(args []string) int
}

var commands = map[string]command{}

// register adds a top-level subcommand; it is called from init functions.
func register(name, summary string, run func(args []string) int) {
	if _, dup := commands[name]; dup {
		panic("xairrosx: duplicate command " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: xairrosx COMMAND [ARGS...]")
	fmt.Fprintln(os.Stderr, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "-help" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "xairrosx: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	os.Exit(c.run(os.Args[2:]))
}
