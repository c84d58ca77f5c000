package cli

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// Query is `xairrosx query account|storage|model|inference|key`. Every
// answer is verified: an ICS-23 proof against the app hash of a header
// signed by +2/3 of the validators.
func Query(args []string) int {
	return subcommand("query", args, map[string]func([]string) int{
		"account":   func(a []string) int { return query(a, "account ADDR|KEY", accountKey) },
		"storage":   func(a []string) int { return query(a, "storage CONTRACT KEYHEX", storageKey) },
		"model":     func(a []string) int { return query(a, "model HASH", prefixedHex(app.PrefixModel)) },
		"inference": func(a []string) int { return query(a, "inference TXHASH", prefixedHex(app.PrefixInferOut)) },
		"code":      func(a []string) int { return query(a, "code CONTRACT", prefixedHex(app.PrefixCode)) },
		"fees": func(a []string) int {
			return query(a, "fees", func(string, []string) ([]byte, error) { return []byte(app.KeyFeePool), nil })
		},
		"key": func(a []string) int { return query(a, "key HEX", prefixedHex("")) },
	}, "account|storage|model|inference|code|fees|key ARGS [--node URL] [--home DIR]")
}

type keyFunc func(home string, args []string) ([]byte, error)

func accountKey(home string, args []string) ([]byte, error) {
	a, err := resolveAddress(home, args[0])
	if err != nil {
		return nil, err
	}
	return app.AccountKey(a), nil
}

func storageKey(_ string, args []string) ([]byte, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("want CONTRACT KEYHEX")
	}
	a, err := tx.ParseAddress(args[0])
	if err != nil {
		return nil, err
	}
	k, err := hexArg("key", args[1])
	if err != nil {
		return nil, err
	}
	return app.StorageKey(a[:], k), nil
}

func prefixedHex(prefix string) keyFunc {
	return func(_ string, args []string) ([]byte, error) {
		b, err := hexArg("argument", args[0])
		if err != nil {
			return nil, err
		}
		return append([]byte(prefix), b...), nil
	}
}

func query(args []string, usage string, key keyFunc) int {
	fs, home := newFlags("query")
	nodeAddr := fs.String("node", client.DefaultNode, "node RPC address")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if usage != "fees" && len(pos) == 0 {
		return errorf("usage: query %s [--node URL]", usage)
	}
	k, err := key(*home, pos)
	if err != nil {
		return errorf("query: %v", err)
	}
	c, err := client.Dial(*nodeAddr)
	if err != nil {
		return errorf("query: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := c.Get(ctx, k)
	if err != nil {
		return errorf("query: %v", err)
	}
	out := map[string]any{
		"key": hex.EncodeToString(k), "height": p.Height, "app_hash": fmt.Sprintf("%X", p.AppHash),
		"verified": true, "exists": p.Value != nil, "value": hex.EncodeToString(p.Value),
	}
	if acct, ok := app.DecodeAccount(p.Value); ok && len(k) == len(app.PrefixAccount)+tx.AddressLen && string(k[:len(app.PrefixAccount)]) == app.PrefixAccount {
		out["balance"], out["nonce"] = acct.Balance, acct.Nonce
	}
	if string(k) == app.KeyFeePool && len(p.Value) == 8 {
		out["fees"] = binary.BigEndian.Uint64(p.Value)
	}
	printJSON(out)
	return 0
}
