// Package sigverify checks the Ed25519 signatures of XairrosX transactions,
// one at a time (CheckTx) or a whole block at once (FinalizeBlock), with
// curve25519-voi and one pinned validity rule.
//
// The rule is ZIP-215 (voi's ed25519.VerifyOptionsZIP_215), the same rule
// CometBFT v1 uses for its own votes: it accepts non-canonical point
// encodings, uses the cofactored equation and, crucially, makes single and
// batch verification agree on every input, so a node that batch-verifies and a
// node that verifies one by one accept exactly the same transactions.
package sigverify

import (
	"crypto/rand"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Options are the pinned verification options used on every node.
var Options = &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}

// Item is one signature to check.
type Item struct {
	PubKey  []byte
	Message []byte
	Sig     []byte
}

// Verify checks one signature under the pinned rule.
func Verify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.VerifyWithOptions(ed25519.PublicKey(pub), msg, sig, Options)
}

// Batch checks all items and reports which are valid. When every signature is
// valid this costs one multi-scalar multiplication; if the batch fails, voi
// falls back to finding the invalid ones. Under ZIP-215 the result equals
// calling Verify on each item.
func Batch(items []Item) []bool {
	ok := make([]bool, len(items))
	if len(items) == 0 {
		return ok
	}
	if len(items) == 1 {
		ok[0] = Verify(items[0].PubKey, items[0].Message, items[0].Sig)
		return ok
	}
	bv := ed25519.NewBatchVerifierWithCapacity(len(items))
	idx := make([]int, 0, len(items))
	for i, it := range items {
		if len(it.PubKey) != ed25519.PublicKeySize || len(it.Sig) != ed25519.SignatureSize {
			continue
		}
		bv.AddWithOptions(ed25519.PublicKey(it.PubKey), it.Message, it.Sig, Options)
		idx = append(idx, i)
	}
	_, valid := bv.Verify(rand.Reader)
	for j, i := range idx {
		ok[i] = valid[j]
	}
	return ok
}
