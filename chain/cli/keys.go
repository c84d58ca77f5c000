package cli

import (
	"fmt"

	"github.com/xairrosx/xairrosx/chain/keys"
)

// Keys is `xairrosx keys add|list|show`.
func Keys(args []string) int {
	return subcommand("keys", args, map[string]func([]string) int{
		"add": keysAdd, "list": keysList, "show": keysShow,
	}, "add NAME | list | show NAME [--home DIR]")
}

func keysAdd(args []string) int {
	fs, home := newFlags("keys add")
	pos, err := parse(fs, args)
	if err != nil || len(pos) != 1 {
		return errorf("usage: keys add NAME [--home DIR]")
	}
	k, err := keys.New(pos[0], nil)
	if err != nil {
		return errorf("%v", err)
	}
	if err := keys.Save(*home, k); err != nil {
		return errorf("%v", err)
	}
	fmt.Fprintf(Stdout, "%s %s\n", k.Name, k.Address)
	return 0
}

func keysList(args []string) int {
	fs, home := newFlags("keys list")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names, err := keys.List(*home)
	if err != nil {
		return errorf("%v", err)
	}
	for _, n := range names {
		k, err := keys.Load(*home, n)
		if err != nil {
			return errorf("%v", err)
		}
		fmt.Fprintf(Stdout, "%s %s\n", k.Name, k.Address)
	}
	return 0
}

func keysShow(args []string) int {
	fs, home := newFlags("keys show")
	pos, err := parse(fs, args)
	if err != nil || len(pos) != 1 {
		return errorf("usage: keys show NAME [--home DIR]")
	}
	k, err := keys.Load(*home, pos[0])
	if err != nil {
		return errorf("%v", err)
	}
	printJSON(map[string]string{"name": k.Name, "address": k.Address, "pubkey": k.PubKey})
	return 0
}
