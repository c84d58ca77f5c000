// Command prog reads the files packed into its image with xairrosx build
// -files (the directory ../root) and checks that the root is read-only while
// /tmp is writable.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
)

func main() {
	b, err := os.ReadFile("/config.json")
	fmt.Println("read /config.json:", err)
	var cfg struct {
		Name       string
		Validators int
	}
	fmt.Println("decode:", json.Unmarshal(b, &cfg), cfg.Name, cfg.Validators)
	h, err := os.ReadFile("/hello-link")
	fmt.Printf("through the symlink: %q %v\n", h, err)
	entries, err := os.ReadDir("/data")
	for _, e := range entries {
		fmt.Println("entry", e.Name(), e.IsDir())
	}
	err = os.WriteFile("/config.json", []byte("{}"), 0o644)
	fmt.Println("writing the root is refused with EROFS:", errors.Is(err, syscall.EROFS))
	err = os.WriteFile("/tmp/scratch", []byte("ok"), 0o644)
	fmt.Println("writing /tmp:", err)
}
