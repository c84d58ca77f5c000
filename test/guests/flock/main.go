// Command flock has two goroutines take an exclusive flock on the same file
// through two descriptors: the second blocks in the system call until the
// first unlocks. (On XairrosX the file service serves the blocked call; the
// unlock must still get through.) It prints the order of events.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	name := filepath.Join(os.TempDir(), "flock-guest")
	a, err := os.Create(name)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer os.Remove(name)
	b, err := os.Open(name)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := syscall.Flock(int(a.Fd()), syscall.LOCK_EX); err != nil {
		fmt.Println("a lock:", err)
		os.Exit(1)
	}
	fmt.Println("a locked")
	fmt.Println("b try:", syscall.Flock(int(b.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	type locked struct {
		at  time.Time
		err error
	}
	got := make(chan locked)
	go func() {
		err := syscall.Flock(int(b.Fd()), syscall.LOCK_EX)
		got <- locked{time.Now(), err}
	}()
	time.Sleep(100 * time.Millisecond)
	unlocked := time.Now()
	fmt.Println("a unlocking")
	if err := syscall.Flock(int(a.Fd()), syscall.LOCK_UN); err != nil {
		fmt.Println("a unlock:", err)
	}
	select {
	case l := <-got:
		fmt.Println("b locked:", l.err)
		fmt.Println("b waited for the unlock:", !l.at.Before(unlocked))
	case <-time.After(10 * time.Second):
		fmt.Println("b still waiting")
	}
	// Many stats while a lock waits: the service keeps serving.
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(name); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("done")
}
