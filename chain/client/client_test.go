package client

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/tx"
)

func TestRejectedParsesCometBFTError(t *testing.T) {
	err := errors.New(`error in json rpc client, with http response metadata: (Status: 200 OK, Protocol HTTP/1.1). RPC error -32603 - Internal error: broadcast error on transaction validation: tx E2E2 is invalid: code=5, data=, log='bad nonce (code 5): account ab expects nonce 3, got 1', codespace='xairrosx'`)
	r := rejected([]byte("raw"), err)
	if r == nil || r.Code != tx.CodeBadNonce || r.Log != "bad nonce (code 5): account ab expects nonce 3, got 1" {
		t.Fatalf("parsed %+v", r)
	}
	if rejected(nil, errors.New("connection refused")) != nil {
		t.Fatal("a transport error was taken for a rejection")
	}
}

func TestSignUsesMinimumFee(t *testing.T) {
	priv := keyFromByte(3)
	for _, gas := range []uint64{0, 999, 1_000_000} {
		tr := &tx.Tx{ChainID: "c", Kind: tx.KindCall, GasLimit: gas, Method: "m", Input: make([]byte, 3000)}
		Sign(tr, priv)
		need := app.RequiredFee(len(tr.Encode()), gas)
		if tr.Fee != need {
			t.Fatalf("gas %d: fee %d, minimum %d", gas, tr.Fee, need)
		}
	}
}

func keyFromByte(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = b
	return ed25519.NewKeyFromSeed(seed)
}
