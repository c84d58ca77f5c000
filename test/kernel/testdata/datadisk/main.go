// Command datadisk reads the ext2 disk mounted at /data (xairrosx run -disk)
// and prints what it finds.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	var lines []string
	err := filepath.Walk("/data", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Name() == "lost+found" {
			return filepath.SkipDir
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%s %d bytes %q", p, len(b), b[:min(len(b), 24)]))
		}
		return nil
	})
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println("walk:", err)
}
