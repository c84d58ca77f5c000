// Package tx defines XairrosX chain transactions: their compact binary
// encoding, Ed25519 signing over chain-id + nonce + body, addresses and the
// stable rejection codes.
//
// Wire format (uvarint = unsigned LEB128, minimal length; bytes = uvarint
// length then the bytes):
//
//	byte    magic 'X' (0x58)
//	byte    version (1)
//	bytes   chain id (1..64 bytes)
//	uvarint nonce
//	uvarint fee
//	uvarint gas limit
//	[32]    sender Ed25519 public key
//	byte    kind (1 transfer, 2 deploy, 3 call, 4 register_model, 5 infer)
//	body    kind-specific, see Tx
//	[64]    Ed25519 signature
//
// The signature covers SignDomain followed by every byte before the signature,
// so it binds the chain id, nonce, fee, gas limit, key, kind and body. Decoding
// is strict: non-minimal varints, trailing bytes, unknown kinds and oversized
// fields are rejected, so every valid transaction has exactly one encoding.
package tx

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Limits enforced by Decode.
const (
	MaxTxBytes      = 1 << 20 // whole transaction
	MaxChainIDBytes = 64
	MaxMethodBytes  = 64
	Magic           = 'X'
	Version         = 1
	AddressLen      = 20
	HashLen         = 32
	PubKeyLen       = ed25519.PublicKeySize
	SigLen          = ed25519.SignatureSize
)

// SignDomain prefixes the signed bytes so a transaction signature can never be
// confused with a signature over another kind of message.
const SignDomain = "XairrosX/tx/v1\x00"

// Kind is the transaction type.
type Kind uint8

// Transaction kinds.
const (
	KindTransfer      Kind = 1
	KindDeploy        Kind = 2
	KindCall          Kind = 3
	KindRegisterModel Kind = 4
	KindInfer         Kind = 5
)

func (k Kind) String() string {
	switch k {
	case KindTransfer:
		return "transfer"
	case KindDeploy:
		return "deploy"
	case KindCall:
		return "call"
	case KindRegisterModel:
		return "register_model"
	case KindInfer:
		return "infer"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Address identifies an account or a contract: the first 20 bytes of SHA-256
// of the public key (accounts) or of the deployer and nonce (contracts).
type Address [AddressLen]byte

// String returns the address in lower-case hex.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// Bytes returns the address as a slice.
func (a Address) Bytes() []byte { return a[:] }

// ParseAddress parses a 40-hex-digit address.
func ParseAddress(s string) (Address, error) {
	var a Address
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != AddressLen {
		return a, fmt.Errorf("address %q: want %d hex digits", s, 2*AddressLen)
	}
	copy(a[:], b)
	return a, nil
}

// AddressOf returns the account address of an Ed25519 public key.
func AddressOf(pub []byte) Address {
	h := sha256.Sum256(pub)
	var a Address
	copy(a[:], h[:AddressLen])
	return a
}

// ContractAddress returns the address of the contract deployed by sender with
// the given nonce.
func ContractAddress(sender Address, nonce uint64) Address {
	var buf [len("contract") + AddressLen + 8]byte
	n := copy(buf[:], "contract")
	n += copy(buf[n:], sender[:])
	binary.BigEndian.PutUint64(buf[n:], nonce)
	h := sha256.Sum256(buf[:])
	var a Address
	copy(a[:], h[:AddressLen])
	return a
}

// Tx is a decoded transaction. Which body fields are used depends on Kind:
//
//	transfer:       To [20], Amount uvarint
//	deploy:         Code bytes (raw wasm)
//	call:           To [20] (contract), Method bytes, Input bytes
//	register_model: Code bytes (model bytes)
//	infer:          ModelHash [32], Input bytes
type Tx struct {
	ChainID   string
	Nonce     uint64
	Fee       uint64
	GasLimit  uint64
	PubKey    [PubKeyLen]byte
	Kind      Kind
	To        Address
	Amount    uint64
	Code      []byte
	Method    string
	Input     []byte
	ModelHash [HashLen]byte
	Sig       [SigLen]byte
}

// Sender returns the address of the signing account.
func (t *Tx) Sender() Address { return AddressOf(t.PubKey[:]) }

// unsigned appends the encoding of everything but the signature.
func (t *Tx) unsigned(b []byte) []byte {
	b = append(b, Magic, Version)
	b = appendBytes(b, []byte(t.ChainID))
	b = binary.AppendUvarint(b, t.Nonce)
	b = binary.AppendUvarint(b, t.Fee)
	b = binary.AppendUvarint(b, t.GasLimit)
	b = append(b, t.PubKey[:]...)
	b = append(b, byte(t.Kind))
	switch t.Kind {
	case KindTransfer:
		b = append(b, t.To[:]...)
		b = binary.AppendUvarint(b, t.Amount)
	case KindDeploy, KindRegisterModel:
		b = appendBytes(b, t.Code)
	case KindCall:
		b = append(b, t.To[:]...)
		b = appendBytes(b, []byte(t.Method))
		b = appendBytes(b, t.Input)
	case KindInfer:
		b = append(b, t.ModelHash[:]...)
		b = appendBytes(b, t.Input)
	}
	return b
}

// SignBytes returns the message that the sender signs.
func (t *Tx) SignBytes() []byte {
	return t.unsigned([]byte(SignDomain))
}

// Encode returns the wire encoding of t, signature included.
func (t *Tx) Encode() []byte {
	return append(t.unsigned(nil), t.Sig[:]...)
}

// Sign sets the public key and signature from an Ed25519 private key.
func (t *Tx) Sign(priv ed25519.PrivateKey) {
	copy(t.PubKey[:], priv.Public().(ed25519.PublicKey))
	copy(t.Sig[:], ed25519.Sign(priv, t.SignBytes()))
}

// Hash returns the SHA-256 of the encoded transaction, as CometBFT does.
func Hash(raw []byte) [32]byte { return sha256.Sum256(raw) }

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decoder reads the wire format and remembers the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = Errorf(CodeMalformed, "at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("%s: bad varint", field)
		return 0
	}
	if n != uvarintLen(v) {
		d.fail("%s: non-minimal varint", field)
		return 0
	}
	d.off += n
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (d *decoder) fixed(field string, dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b)-d.off < len(dst) {
		d.fail("%s: need %d bytes, have %d", field, len(dst), len(d.b)-d.off)
		return
	}
	copy(dst, d.b[d.off:])
	d.off += len(dst)
}

func (d *decoder) bytes(field string, max int) []byte {
	n := d.uvarint(field + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)-d.off) {
		d.fail("%s: length %d exceeds limit or remaining input", field, n)
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b[d.off:])
	d.off += int(n)
	return v
}

func (d *decoder) byte1(field string) byte {
	var b [1]byte
	d.fixed(field, b[:])
	return b[0]
}

// Decode parses a wire-encoded transaction. It checks structure only, not
// the signature. Errors are *Error with CodeMalformed or CodeTooLarge.
func Decode(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, Errorf(CodeTooLarge, "%d bytes, limit %d", len(raw), MaxTxBytes)
	}
	d := &decoder{b: raw}
	t := &Tx{}
	if m := d.byte1("magic"); d.err == nil && m != Magic {
		d.fail("magic 0x%02x, want 0x%02x", m, Magic)
	}
	if v := d.byte1("version"); d.err == nil && v != Version {
		d.fail("version %d, want %d", v, Version)
	}
	cid := d.bytes("chain id", MaxChainIDBytes)
	if d.err == nil && len(cid) == 0 {
		d.fail("empty chain id")
	}
	t.ChainID = string(cid)
	t.Nonce = d.uvarint("nonce")
	t.Fee = d.uvarint("fee")
	t.GasLimit = d.uvarint("gas limit")
	d.fixed("public key", t.PubKey[:])
	t.Kind = Kind(d.byte1("kind"))
	if d.err != nil {
		return nil, d.err
	}
	switch t.Kind {
	case KindTransfer:
		d.fixed("to", t.To[:])
		t.Amount = d.uvarint("amount")
	case KindDeploy, KindRegisterModel:
		t.Code = d.bytes("code", MaxTxBytes)
	case KindCall:
		d.fixed("contract", t.To[:])
		t.Method = string(d.bytes("method", MaxMethodBytes))
		t.Input = d.bytes("input", MaxTxBytes)
	case KindInfer:
		d.fixed("model hash", t.ModelHash[:])
		t.Input = d.bytes("input", MaxTxBytes)
	default:
		d.fail("unknown kind %d", t.Kind)
	}
	d.fixed("signature", t.Sig[:])
	if d.err == nil && d.off != len(raw) {
		d.fail("%d trailing bytes", len(raw)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}
