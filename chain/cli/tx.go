package cli

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/keys"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// Tx is `xairrosx tx transfer|deploy|call|register-model|infer`.
func Tx(args []string) int {
	return subcommand("tx", args, map[string]func([]string) int{
		"transfer":       txTransfer,
		"deploy":         txDeploy,
		"call":           txCall,
		"register-model": txRegisterModel,
		"infer":          txInfer,
	}, "transfer|deploy|call|register-model|infer --from KEY [--node URL] [--home DIR] [flags]")
}

// txFlags are the flags every tx subcommand has.
type txFlags struct {
	fs    *flag.FlagSet
	home  *string
	from  *string
	node  *string
	fee   *uint64
	gas   *uint64
	nonce *int64
	async *bool
}

func newTxFlags(name string) *txFlags {
	fs, home := newFlags("tx " + name)
	return &txFlags{
		fs: fs, home: home,
		from:  fs.String("from", "", "key name in the keyring (required)"),
		node:  fs.String("node", client.DefaultNode, "node RPC address"),
		fee:   fs.Uint64("fee", 0, "fee (0 = the minimum)"),
		gas:   fs.Uint64("gas", 0, "gas limit (contracts)"),
		nonce: fs.Int64("nonce", -1, "nonce (-1 = read the account's next nonce with a proof)"),
		async: fs.Bool("async", false, "return after CheckTx instead of waiting for the block"),
	}
}

// send signs t with --from and broadcasts it; it prints the result as JSON
// and returns 0 only when the transaction succeeded.
func (f *txFlags) send(t *tx.Tx) int {
	if *f.from == "" {
		return errorf("tx: --from KEY is required")
	}
	k, err := keys.Load(*f.home, *f.from)
	if err != nil {
		return errorf("tx: %v", err)
	}
	priv, _ := k.Private()
	c, err := client.Dial(*f.node)
	if err != nil {
		return errorf("tx: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res *client.Result
	// With the nonce read from the node, retry a few times on a bad nonce:
	// the node may not have applied this account's previous block yet.
	for attempt := 0; ; attempt++ {
		t.Fee, t.GasLimit = *f.fee, *f.gas
		if err := c.Prepare(ctx, t, priv, *f.nonce); err != nil {
			return errorf("tx: %v", err)
		}
		raw := t.Encode()
		if *f.async {
			res, err = c.BroadcastSync(ctx, raw)
		} else {
			res, err = c.BroadcastCommit(ctx, raw)
		}
		if err != nil {
			return errorf("tx: %v", err)
		}
		if res.Code != tx.CodeBadNonce || *f.nonce >= 0 || attempt == 4 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	printJSON(map[string]any{
		"hash": fmt.Sprintf("%X", res.Hash), "height": res.Height, "code": uint32(res.Code),
		"codename": res.Code.String(), "log": res.Log, "data": hex.EncodeToString(res.Data),
		"gas_used": res.GasUsed, "nonce": t.Nonce, "fee": t.Fee,
	})
	if res.Code != tx.CodeOK {
		return 1
	}
	return 0
}

func txTransfer(args []string) int {
	f := newTxFlags("transfer")
	to := f.fs.String("to", "", "recipient address (hex) or key name")
	amount := f.fs.Uint64("amount", 0, "amount")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	addr, err := resolveAddress(*f.home, *to)
	if err != nil {
		return errorf("tx transfer: --to: %v", err)
	}
	return f.send(&tx.Tx{Kind: tx.KindTransfer, To: addr, Amount: *amount})
}

func txDeploy(args []string) int {
	f := newTxFlags("deploy")
	wasm := f.fs.String("wasm", "", "contract .wasm file")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	code, err := os.ReadFile(*wasm)
	if err != nil {
		return errorf("tx deploy: --wasm: %v", err)
	}
	return f.send(&tx.Tx{Kind: tx.KindDeploy, Code: code})
}

func txCall(args []string) int {
	f := newTxFlags("call")
	contract := f.fs.String("contract", "", "contract address (hex)")
	method := f.fs.String("method", "", "exported method")
	input := f.fs.String("input", "", "input bytes (hex)")
	inputStr := f.fs.String("input-string", "", "input bytes (literal string)")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	addr, err := tx.ParseAddress(*contract)
	if err != nil {
		return errorf("tx call: --contract: %v", err)
	}
	in, err := hexArg("input", *input)
	if err != nil {
		return errorf("tx call: %v", err)
	}
	if *inputStr != "" {
		in = []byte(*inputStr)
	}
	return f.send(&tx.Tx{Kind: tx.KindCall, To: addr, Method: *method, Input: in})
}

func txRegisterModel(args []string) int {
	f := newTxFlags("register-model")
	file := f.fs.String("file", "", "quantized model file")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	model, err := os.ReadFile(*file)
	if err != nil {
		return errorf("tx register-model: --file: %v", err)
	}
	return f.send(&tx.Tx{Kind: tx.KindRegisterModel, Code: model})
}

func txInfer(args []string) int {
	f := newTxFlags("infer")
	model := f.fs.String("model", "", "model hash (hex SHA-256 of its bytes)")
	input := f.fs.String("input", "", "input tensor bytes (hex)")
	inputFile := f.fs.String("input-file", "", "input tensor bytes (file)")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	h, err := hexArg("model", *model)
	if err != nil || len(h) != tx.HashLen {
		return errorf("tx infer: --model: want %d hex digits", 2*tx.HashLen)
	}
	in, err := hexArg("input", *input)
	if err != nil {
		return errorf("tx infer: %v", err)
	}
	if *inputFile != "" {
		if in, err = os.ReadFile(*inputFile); err != nil {
			return errorf("tx infer: --input-file: %v", err)
		}
	}
	t := &tx.Tx{Kind: tx.KindInfer, Input: in}
	copy(t.ModelHash[:], h)
	return f.send(t)
}

// resolveAddress accepts a hex address or the name of a key in the keyring.
func resolveAddress(home, s string) (tx.Address, error) {
	if a, err := tx.ParseAddress(s); err == nil {
		return a, nil
	}
	k, err := keys.Load(home, s)
	if err != nil {
		return tx.Address{}, fmt.Errorf("%q is neither an address nor a key name", s)
	}
	return k.Addr(), nil
}
