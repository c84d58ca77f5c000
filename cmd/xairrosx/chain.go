package main

import (
	"github.com/xairrosx/xairrosx/ai/infer"
	chaincli "github.com/xairrosx/xairrosx/chain/cli"
)

func init() {
	// On-chain inference runs the AI engine's bit-exact int8 path.
	chaincli.Infer = infer.RunInt8
	chaincli.CheckModel = func(model []byte) error {
		_, err := infer.Inspect(model)
		return err
	}
	register("chain", "blockchain node: init, start, testnet -n N", chaincli.Chain)
	register("keys", "chain account keys: add, list, show", chaincli.Keys)
	register("tx", "sign and broadcast chain transactions", chaincli.Tx)
	register("query", "read chain state with verified Merkle proofs", chaincli.Query)
}
