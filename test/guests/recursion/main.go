// Command recursion recurses deeply so that goroutine stacks grow to many
// megabytes, on the main goroutine and on others at the same time.
package main

import "fmt"

// depth recurses n times with a frame that holds a 128-byte array.
func depth(n int) int {
	var pad [16]int
	pad[n%16] = n
	if n == 0 {
		return 0
	}
	return depth(n-1) + 1 + pad[n%16] - n
}

// ackermann grows and shrinks the stack many times.
func ackermann(m, n int) int {
	switch {
	case m == 0:
		return n + 1
	case n == 0:
		return ackermann(m-1, 1)
	}
	return ackermann(m-1, ackermann(m, n-1))
}

func main() {
	fmt.Println("depth 150000:", depth(150000))
	done := make(chan int)
	for i := 1; i <= 8; i++ {
		go func(i int) { done <- depth(i * 10000) }(i)
	}
	total := 0
	for i := 0; i < 8; i++ {
		total += <-done
	}
	fmt.Println("8 goroutines, total depth:", total)
	fmt.Println("ackermann(2, 3000):", ackermann(2, 3000))
	fmt.Println("ackermann(3, 8):", ackermann(3, 8))
}
