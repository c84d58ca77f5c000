// Command recover checks panic and recover, including runtime errors from a
// nil dereference, an integer division by zero, an index out of range and a
// failed type assertion, all recovered.
package main

import (
	"errors"
	"fmt"
	"runtime"
)

type T struct{ x int }

//go:noinline
func deref(p *T) int { return p.x }

//go:noinline
func div(a, b int) int { return a / b }

func try(name string, f func()) {
	defer func() {
		r := recover()
		var re runtime.Error
		isRuntime := false
		if err, ok := r.(error); ok {
			isRuntime = errors.As(err, &re)
		}
		fmt.Printf("%s: recovered %v (runtime error: %v)\n", name, r, isRuntime)
	}()
	f()
}

func main() {
	try("panic with a string", func() { panic("boom") })
	try("panic with an error", func() { panic(errors.New("custom error")) })
	try("nil dereference", func() { fmt.Println(deref(nil)) })
	try("division by zero", func() { fmt.Println(div(1, 0)) })
	try("index out of range", func() {
		s := []int{1, 2, 3}
		i := 5
		fmt.Println(s[i])
	})
	try("type assertion", func() {
		var v any = "string"
		fmt.Println(v.(int))
	})
	try("nil map write", func() {
		var m map[string]int
		m["x"] = 1
	})
	try("closed channel close", func() {
		c := make(chan int)
		close(c)
		close(c)
	})

	// Deferred calls run in order, and a re-panic in a deferred call
	// replaces the first value.
	func() {
		defer func() { fmt.Println("outer recovered:", recover()) }()
		defer func() { panic("second") }()
		panic("first")
	}()

	// Many nil dereferences in a row, on other goroutines too.
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			n := 0
			for i := 0; i < 250; i++ {
				func() {
					defer func() {
						if recover() != nil {
							n++
						}
					}()
					deref(nil)
				}()
			}
			done <- n
		}()
	}
	total := 0
	for g := 0; g < 4; g++ {
		total += <-done
	}
	fmt.Println("recovered nil dereferences on 4 goroutines:", total)
}
