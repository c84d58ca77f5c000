package app

import (
	"encoding/binary"

	"github.com/xairrosx/xairrosx/chain/tx"
)

// State key layout. All chain state lives in one IAVL tree under these
// prefixes; `xairrosx query` builds the same keys to ask for proofs.
const (
	PrefixAccount  = "acct/"  // + address(20) -> balance(8 BE) nonce(8 BE)
	PrefixCode     = "code/"  // + contract address(20) -> prepared wasm
	PrefixStorage  = "store/" // + contract address(20) + key -> value
	PrefixModel    = "model/" // + sha256(model)(32) -> model bytes
	PrefixInferOut = "infer/" // + tx hash(32) -> model output
	KeyFeePool     = "meta/fees"
)

// AccountKey is the state key of an account.
func AccountKey(a tx.Address) []byte { return append([]byte(PrefixAccount), a[:]...) }

// CodeKey is the state key of a contract's prepared code.
func CodeKey(a tx.Address) []byte { return append([]byte(PrefixCode), a[:]...) }

// StorageKey is the state key of a contract storage slot.
func StorageKey(contract []byte, key []byte) []byte {
	k := make([]byte, 0, len(PrefixStorage)+len(contract)+len(key))
	k = append(k, PrefixStorage...)
	k = append(k, contract...)
	return append(k, key...)
}

// ModelKey is the state key of a registered model.
func ModelKey(hash []byte) []byte { return append([]byte(PrefixModel), hash...) }

// InferKey is the state key of an inference transaction's output.
func InferKey(txHash []byte) []byte { return append([]byte(PrefixInferOut), txHash...) }

// Account is the decoded value of an account key.
type Account struct {
	Balance uint64
	Nonce   uint64
}

// Encode returns the 16-byte state encoding.
func (a Account) Encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, a.Balance)
	binary.BigEndian.PutUint64(b[8:], a.Nonce)
	return b
}

// DecodeAccount parses an account value; nil means a fresh empty account.
func DecodeAccount(b []byte) (Account, bool) {
	if b == nil {
		return Account{}, true
	}
	if len(b) != 16 {
		return Account{}, false
	}
	return Account{Balance: binary.BigEndian.Uint64(b), Nonce: binary.BigEndian.Uint64(b[8:])}, true
}
