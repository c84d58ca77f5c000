package sigverify

import (
	"crypto/ed25519"
	"encoding/binary"
	"testing"
)

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		seed := make([]byte, ed25519.SeedSize)
		binary.LittleEndian.PutUint64(seed, uint64(i)+1)
		priv := ed25519.NewKeyFromSeed(seed)
		msg := binary.LittleEndian.AppendUint64([]byte("XairrosX/tx/v1\x00transfer "), uint64(i))
		out[i] = Item{PubKey: priv.Public().(ed25519.PublicKey), Message: msg, Sig: ed25519.Sign(priv, msg)}
	}
	return out
}

func TestBatchAgreesWithSingle(t *testing.T) {
	its := items(64)
	its[3].Sig = append([]byte{}, its[3].Sig...)
	its[3].Sig[10] ^= 1 // corrupt signature
	its[17].Message = []byte("other message")
	its[30].PubKey = its[31].PubKey // wrong key
	its[40].Sig = its[40].Sig[:10]  // truncated
	bad := map[int]bool{3: true, 17: true, 30: true, 40: true}
	got := Batch(its)
	for i, it := range its {
		single := Verify(it.PubKey, it.Message, it.Sig)
		if got[i] != single {
			t.Errorf("item %d: batch %v, single %v", i, got[i], single)
		}
		if got[i] == bad[i] {
			t.Errorf("item %d: valid=%v, want %v", i, got[i], !bad[i])
		}
		if !bad[i] && !ed25519.Verify(it.PubKey, it.Message, it.Sig) {
			t.Errorf("item %d: stdlib disagrees", i)
		}
	}
	if ok := Batch(its[:1]); !ok[0] {
		t.Error("batch of one valid signature failed")
	}
	if len(Batch(nil)) != 0 {
		t.Error("empty batch")
	}
}

// BenchmarkBlock1000 measures verifying the signatures of a 1,000-tx block:
// voi batch (what FinalizeBlock does), voi one by one (CheckTx), and stdlib
// crypto/ed25519 one by one (the baseline of the issue's ≥3× target).
func BenchmarkBlock1000(b *testing.B) {
	its := items(1000)
	b.Run("voi-batch", func(b *testing.B) {
		for b.Loop() {
			for i, ok := range Batch(its) {
				if !ok {
					b.Fatalf("item %d rejected", i)
				}
			}
		}
	})
	b.Run("voi-single", func(b *testing.B) {
		for b.Loop() {
			for _, it := range its {
				if !Verify(it.PubKey, it.Message, it.Sig) {
					b.Fatal("rejected")
				}
			}
		}
	})
	b.Run("stdlib-single", func(b *testing.B) {
		for b.Loop() {
			for _, it := range its {
				if !ed25519.Verify(it.PubKey, it.Message, it.Sig) {
					b.Fatal("rejected")
				}
			}
		}
	})
}
