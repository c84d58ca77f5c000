// Command deadlock blocks every goroutine, so the runtime reports
// "fatal error: all goroutines are asleep - deadlock!" and exits 2.
package main

import (
	"fmt"
	"sync"
)

func main() {
	fmt.Println("about to deadlock")
	var mu sync.Mutex
	mu.Lock()
	done := make(chan bool)
	go func() {
		mu.Lock()
		done <- true
	}()
	<-done
}
