// Command goroutines runs 10,000 goroutines that talk over channels and
// select, and prints results that do not depend on scheduling order.
package main

import (
	"fmt"
	"sync"
)

const n = 10000

func main() {
	// A ring: each goroutine adds its index and passes the token on.
	first := make(chan int)
	in := first
	for i := 0; i < n; i++ {
		out := make(chan int)
		go func(i int, in <-chan int, out chan<- int) {
			v := <-in
			out <- v + i
		}(i, in, out)
		in = out
	}
	first <- 0
	fmt.Println("ring of", n, "goroutines: sum", <-in)

	// Fan-out/fan-in with select between results, errors and a quit channel.
	results := make(chan int, 64)
	odd := make(chan int, 64)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 1 {
				odd <- i
			} else {
				results <- i
			}
		}(i)
	}
	go func() { wg.Wait(); close(quit) }()
	sumEven, sumOdd, count := 0, 0, 0
	for done := false; !done; {
		select {
		case v := <-results:
			sumEven += v
			count++
		case v := <-odd:
			sumOdd += v
			count++
		case <-quit:
			// Drain what is buffered, then stop.
			for len(results) > 0 {
				sumEven += <-results
				count++
			}
			for len(odd) > 0 {
				sumOdd += <-odd
				count++
			}
			done = true
		}
	}
	fmt.Println("select fan-in:", count, "messages, even sum", sumEven, "odd sum", sumOdd)

	// A mutex-protected counter incremented by all goroutines.
	var mu sync.Mutex
	counter := 0
	var wg2 sync.WaitGroup
	for i := 0; i < n; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := 0; j < 10; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg2.Wait()
	fmt.Println("mutex counter:", counter)

	// Unbuffered ping-pong between two goroutines.
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for i := 0; i < 10000; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	fmt.Println("ping-pong value:", v)
}
