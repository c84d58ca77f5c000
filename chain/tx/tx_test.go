package tx

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// samples returns one signed transaction of every kind.
func samples() []*Tx {
	to := AddressOf([]byte("someone"))
	var mh [HashLen]byte
	mh[0] = 7
	txs := []*Tx{
		{ChainID: "c", Nonce: 0, Fee: 11, Kind: KindTransfer, To: to, Amount: 5},
		{ChainID: "chain-x", Nonce: 1 << 40, Fee: 300, GasLimit: 1 << 20, Kind: KindDeploy, Code: []byte("\x00asm\x01\x00\x00\x00")},
		{ChainID: "chain-x", Nonce: 2, Fee: 12, GasLimit: 5000, Kind: KindCall, To: to, Method: "transfer", Input: []byte{1, 2, 3}},
		{ChainID: "chain-x", Nonce: 3, Fee: 12, Kind: KindRegisterModel, Code: bytes.Repeat([]byte{9}, 3000)},
		{ChainID: "chain-x", Nonce: 4, Fee: 12, Kind: KindInfer, ModelHash: mh, Input: make([]byte, 784)},
	}
	for i, t := range txs {
		t.Sign(testKey(byte(i + 1)))
	}
	return txs
}

func TestRoundTrip(t *testing.T) {
	for _, want := range samples() {
		raw := want.Encode()
		got, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", want.Kind, err)
		}
		if !bytes.Equal(got.Encode(), raw) {
			t.Fatalf("%s: re-encoding differs", want.Kind)
		}
		if got.Sender() != AddressOf(testKeyPub(want)) {
			t.Fatalf("%s: sender mismatch", want.Kind)
		}
		if !ed25519.Verify(got.PubKey[:], got.SignBytes(), got.Sig[:]) {
			t.Fatalf("%s: signature does not verify after decoding", want.Kind)
		}
	}
}

func testKeyPub(t *Tx) []byte { return t.PubKey[:] }

func TestSignatureBindsFields(t *testing.T) {
	tr := samples()[0]
	for name, mut := range map[string]func(*Tx){
		"chain id": func(t *Tx) { t.ChainID = "d" },
		"nonce":    func(t *Tx) { t.Nonce++ },
		"fee":      func(t *Tx) { t.Fee++ },
		"amount":   func(t *Tx) { t.Amount++ },
		"to":       func(t *Tx) { t.To[0] ^= 1 },
	} {
		c := *tr
		mut(&c)
		if ed25519.Verify(c.PubKey[:], c.SignBytes(), c.Sig[:]) {
			t.Errorf("changing the %s keeps the signature valid", name)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := samples()[2].Encode()
	nonMinimal := append([]byte{}, good[:3]...) // magic, version, chain id length 7
	nonMinimal = append(nonMinimal, good[3:10]...)
	nonMinimal = append(nonMinimal, 0x82, 0x00) // nonce 2 as a 2-byte varint
	nonMinimal = append(nonMinimal, good[11:]...)
	badKind := append([]byte{}, good...)
	badKind[3+7+1+1+2+32] = 9 // header, chain id, nonce, fee, gas (2 bytes), key
	cases := map[string][]byte{
		"empty":          nil,
		"bad magic":      append([]byte{'Y'}, good[1:]...),
		"bad version":    append([]byte{'X', 2}, good[2:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"non-minimal":    nonMinimal,
		"unknown kind":   badKind,
		"empty chain id": append([]byte{'X', 1, 0}, good[10:]...),
	}
	for name, raw := range cases {
		_, err := Decode(raw)
		var te *Error
		if !errors.As(err, &te) || te.Code != CodeMalformed {
			t.Errorf("%s: got %v, want CodeMalformed", name, err)
		}
	}
	big := make([]byte, MaxTxBytes+1)
	if _, err := Decode(big); !errors.As(err, new(*Error)) || err.(*Error).Code != CodeTooLarge {
		t.Errorf("oversized: got %v, want CodeTooLarge", err)
	}
}

func TestContractAddressDependsOnNonce(t *testing.T) {
	s := AddressOf([]byte("k"))
	if ContractAddress(s, 1) == ContractAddress(s, 2) {
		t.Fatal("two deploys by one sender got the same contract address")
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to
// exactly the input (the encoding is canonical).
func FuzzDecode(f *testing.F) {
	for _, s := range samples() {
		f.Add(s.Encode())
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := Decode(raw)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || (te.Code != CodeMalformed && te.Code != CodeTooLarge) {
				t.Fatalf("error %v is not a malformed/too-large *Error", err)
			}
			return
		}
		if !bytes.Equal(tr.Encode(), raw) {
			t.Fatalf("accepted non-canonical encoding %x", raw)
		}
	})
}
