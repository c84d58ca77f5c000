package main

import chaincli "github.com/xairrosx/xairrosx/chain/cli"

func init() {
	register("chain", "blockchain node: init, start, testnet -n N", chaincli.Chain)
	register("keys", "chain account keys: add, list, show", chaincli.Keys)
	register("tx", "sign and broadcast chain transactions", chaincli.Tx)
	register("query", "read chain state with verified Merkle proofs", chaincli.Query)
}
