package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand"
	"slices"
	"testing"
	"time"

	hostcmdline "github.com/xairrosx/xairrosx/internal/cmdline"
)

// These host tests cover the kernel's pure parts: the command-line splitter
// (against the host tool's quoting), the VMA table, the calendar arithmetic
// and the ChaCha20 generator. The parts that touch hardware are covered by
// the QEMU guest suite in test/qemu.

func parseLine(line string) (argv0 string, env, args []string) {
	cmdlen = copy(cmdline[:], line)
	nwords, dashdash = 0, -1
	splitCmdline()
	argv0 = string(argv0Bytes())
	for i := 0; i < nwords && (dashdash < 0 || i < dashdash); i++ {
		if isEnvWord(i) {
			env = append(env, string(wordBytes(i)))
		}
	}
	if dashdash >= 0 {
		args = []string{}
		for i := dashdash + 1; i < nwords; i++ {
			args = append(args, string(wordBytes(i)))
		}
	}
	return
}

func argv0Bytes() []byte { return argv0() }

func TestCmdlineMatchesHostQuoting(t *testing.T) {
	cases := [][]string{
		{"plain", "two words", "", `quo"te`, `back\slash`, "--", "-x"},
		{},
		{"ünïcode", "tab\there", `\"`, `""`},
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		var args []string
		for j := r.Intn(5); j > 0; j-- {
			b := make([]byte, r.Intn(6))
			for k := range b {
				b[k] = " \"\\a=-"[r.Intn(6)]
			}
			args = append(args, string(b))
		}
		cases = append(cases, args)
	}
	for _, args := range cases {
		line, err := hostcmdline.Build(map[string]string{"argv0": "prog"}, []string{"A=1", "B=x y"}, args)
		if err != nil {
			t.Fatal(err)
		}
		a0, env, got := parseLine(line)
		if a0 != "prog" {
			t.Errorf("%q: argv0 = %q", line, a0)
		}
		if !slices.Equal(env, []string{"A=1", "B=x y"}) {
			t.Errorf("%q: env = %q", line, env)
		}
		if !slices.Equal(got, args) && !(len(got) == 0 && len(args) == 0) {
			t.Errorf("%q: args = %q, want %q", line, got, args)
		}
	}
}

func TestCmdlineOptions(t *testing.T) {
	optStrace, optLog = false, false
	parseLine("xairrosx.log=1 xairrosx.strace=1 -- xairrosx.log=0")
	parseKernelOptions()
	if !optLog || !optStrace {
		t.Fatalf("options not applied: log=%v strace=%v", optLog, optStrace)
	}
	if a0, _, _ := parseLine("X=1"); a0 != "init" {
		t.Fatalf("default argv0 = %q", a0)
	}
}

func resetVMAs() {
	nvmas = 0
	identTop = 1 << 32
	mmapCursor = mmapBase
}

func checkSorted(t *testing.T) {
	t.Helper()
	for i := 0; i < nvmas; i++ {
		if vmas[i].start >= vmas[i].end {
			t.Fatalf("empty area %d: %#x-%#x", i, vmas[i].start, vmas[i].end)
		}
		if i > 0 && vmas[i-1].end > vmas[i].start {
			t.Fatalf("areas %d and %d overlap", i-1, i)
		}
	}
}

func TestVMATable(t *testing.T) {
	resetVMAs()
	const base = 0x10_0000_0000
	// A reservation, then commits inside it, as Go's heap does.
	if !insertVMA(base, base+64<<20, 0) {
		t.Fatal("insert reservation")
	}
	if !detachRange(base+4<<20, base+8<<20) || !insertVMA(base+4<<20, base+8<<20, protRead|protWrite) {
		t.Fatal("commit")
	}
	checkSorted(t)
	if nvmas != 3 {
		t.Fatalf("areas after commit = %d, want 3", nvmas)
	}
	if i := findVMA(base + 5<<20); i < 0 || vmas[i].prot != protRead|protWrite {
		t.Fatal("committed page not found as RW")
	}
	if i := findVMA(base + 9<<20); i < 0 || vmas[i].prot != 0 {
		t.Fatal("reserved page not found as PROT_NONE")
	}
	// An adjacent commit merges.
	detachRange(base+8<<20, base+12<<20)
	insertVMA(base+8<<20, base+12<<20, protRead|protWrite)
	checkSorted(t)
	if i := findVMA(base + 4<<20); vmas[i].end != base+12<<20 {
		t.Fatalf("adjacent commits not merged: %#x", vmas[i].end)
	}
	// Punch a hole; the area splits.
	detachRange(base+6<<20, base+7<<20)
	checkSorted(t)
	if findVMA(base+6<<20) >= 0 {
		t.Fatal("hole still mapped")
	}
	if !rangeFree(base+6<<20, base+7<<20) || rangeFree(base+6<<20, base+7<<20+1) {
		t.Fatal("rangeFree wrong around the hole")
	}
	// userOK follows protections.
	if !userOK(base+5<<20, 4096, true) || userOK(base+20<<20, 1, false) || userOK(base+6<<20, 1, false) {
		t.Fatal("userOK disagrees with the areas")
	}
	if userOK(0, 8, false) || userOK(16, 8, false) {
		t.Fatal("page 0 must not be accessible")
	}
}

func TestFindFreeSkipsAreas(t *testing.T) {
	resetVMAs()
	insertVMA(mmapBase-8<<20, mmapBase, protRead)
	a := findFree(16 << 20)
	if a == 0 || a+16<<20 > mmapBase-8<<20 {
		t.Fatalf("findFree = %#x overlaps the area below the cursor", a)
	}
	insertVMA(a, a+16<<20, protRead)
	b := findFree(4096)
	if b == 0 || b+4096 > a {
		t.Fatalf("second findFree = %#x", b)
	}
	checkSorted(t)
}

func TestDaysFromCivil(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := daysFromCivil(int64(d.Year()), int64(d.Month()), int64(d.Day())), d.Unix()/86400; got != want {
			t.Errorf("%v: %d, want %d", d, got, want)
		}
	}
}

// The generator's block function is RFC 8439's ChaCha20 with a 64-bit block
// counter in words 12-13 and a zero nonce; with counter 1 that is the same
// state as RFC 8439's 32-bit counter 1 and all-zero nonce, so the keystream
// must match golang.org/x/crypto/chacha20 (computed once, pasted here).
func TestChaChaBlockRFC8439(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	for i := range rngKey {
		rngKey[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	rngCounter = 1
	var out [16]uint32
	chachaBlock(&out)
	var b [64]byte
	for i, w := range out {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	want := "18b84231ade6a6d113615c61af434e27f8b1f3f5e1ad5b5cecf8fc122a35755c"
	if got := hex.EncodeToString(b[:32]); got != want {
		t.Fatalf("keystream %s, want %s", got, want)
	}
}
