// Command stdlib exercises maps, strings, fmt, sort, encoding/json,
// crypto/sha256 and crypto/rand, printing only deterministic results.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

type record struct {
	Name    string            `json:"name"`
	Age     int               `json:"age"`
	Tags    []string          `json:"tags,omitempty"`
	Attrs   map[string]string `json:"attrs"`
	Score   float64           `json:"score"`
	private int
}

func main() {
	// Maps: insert, delete, iterate in sorted key order.
	m := map[string]int{}
	for i := 0; i < 100000; i++ {
		m["k"+strconv.Itoa(i%5000)] += i
	}
	delete(m, "k42")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println("map:", len(m), "keys; first", keys[0], m[keys[0]], "last", keys[len(keys)-1], m[keys[len(keys)-1]])

	// Strings and fmt.
	s := strings.Repeat("Gö ", 5)
	fmt.Printf("strings: %q upper=%q fields=%d runes=%d bytes=%d\n", s, strings.ToUpper(s), len(strings.Fields(s)), utf8.RuneCountInString(s), len(s))
	var sb strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&sb, "[%03d|%-4s|%x|%.3f|%e]", i, strings.Repeat("a", i), i*255, math.Pi*float64(i), float64(i)*1e10)
	}
	fmt.Println("fmt:", sb.String())
	fmt.Printf("fmt: %v %+v %T %08b %o %U\n", []int{1, 2}, struct{ A, B int }{1, 2}, m, 5, 64, 0x1F600)

	// Sort.
	xs := make([]int, 1000)
	seed := uint32(1)
	for i := range xs {
		seed = seed*1664525 + 1013904223
		xs[i] = int(seed >> 8 % 10000)
	}
	sort.Ints(xs)
	people := []record{{Name: "carol", Age: 35}, {Name: "alice", Age: 30}, {Name: "bob", Age: 30}}
	sort.SliceStable(people, func(i, j int) bool { return people[i].Age < people[j].Age })
	fmt.Println("sort:", sort.IntsAreSorted(xs), xs[0], xs[500], xs[999], people[0].Name, people[1].Name, people[2].Name)

	// encoding/json round trip.
	r := record{Name: "Ada \"Countess\" <Lovelace>", Age: 36, Tags: []string{"math", "engine"}, Attrs: map[string]string{"b": "2", "a": "1"}, Score: 99.5}
	js, err := json.Marshal(r)
	fmt.Println("json:", string(js), err)
	var back record
	err = json.Unmarshal(js, &back)
	fmt.Println("json round trip:", err, back.Name == r.Name && back.Age == r.Age && len(back.Tags) == 2 && back.Attrs["a"] == "1")
	var anyv any
	err = json.Unmarshal([]byte(`{"x":[1,2.5,"s",null,true,{"y":{}}]}`), &anyv)
	fmt.Printf("json any: %v %v\n", anyv, err)
	var ind bytes.Buffer
	_ = json.Indent(&ind, js, "", " ")
	fmt.Println("json indent lines:", strings.Count(ind.String(), "\n")+1)
	err = json.Unmarshal([]byte(`{"name": 5}`), &back)
	fmt.Println("json type error:", err)

	// crypto/sha256 on known and large inputs.
	fmt.Println("sha256(abc):", hex.EncodeToString(sum([]byte("abc"))))
	big1 := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	fmt.Println("sha256(1 MiB):", hex.EncodeToString(sum(big1)))
	h := sha256.New()
	for i := 0; i < 1000; i++ {
		h.Write([]byte(strconv.Itoa(i)))
	}
	fmt.Println("sha256(stream):", hex.EncodeToString(h.Sum(nil)))

	// crypto/rand: only properties of the random values are printed.
	buf := make([]byte, 32)
	n, err := rand.Read(buf)
	fmt.Println("crypto/rand:", n, "random bytes, error", err, "not all zero:", !bytes.Equal(buf, make([]byte, 32)))
	buf2 := make([]byte, 32)
	_, _ = rand.Read(buf2)
	fmt.Println("crypto/rand: two reads differ:", !bytes.Equal(buf, buf2))
	x, err := rand.Int(rand.Reader, big.NewInt(1000))
	fmt.Println("crypto/rand: Int below 1000:", err == nil && x.Sign() >= 0 && x.Cmp(big.NewInt(1000)) < 0)
	fmt.Println("crypto/rand: Text length:", len(rand.Text()))

	// Math and strconv.
	fmt.Println("math:", math.Sqrt(2), math.Float64bits(math.Inf(1)), math.IsNaN(math.NaN()), strconv.FormatFloat(1.0/3, 'g', -1, 64))
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
