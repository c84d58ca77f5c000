// Command timers checks time.Sleep, timers, tickers and timeouts within
// generous bounds (the guest runs under an emulator) and prints OK or FAIL
// for each check, never the measured times.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"
)

// slack is how late a timer may fire before the check fails.
const slack = 3 * time.Second

var failed bool

func check(name string, ok bool, detail string) {
	if ok {
		fmt.Println("OK  ", name)
		return
	}
	failed = true
	fmt.Println("FAIL", name)
	fmt.Fprintln(os.Stderr, "  ", detail)
}

func within(d, want time.Duration) bool { return d >= want && d < want+slack }

func main() {
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	d := time.Since(start)
	check("time.Sleep(50ms)", within(d, 50*time.Millisecond), d.String())

	start = time.Now()
	time.Sleep(0)
	time.Sleep(-time.Second)
	check("time.Sleep(0) and negative return at once", time.Since(start) < slack, time.Since(start).String())

	// Every timer fires, none before its deadline. (Timers that expire in
	// the same scheduler pass start their functions in an order the
	// runtime does not promise, so the check is per timer, not on order.)
	type fired struct {
		i  int
		at time.Duration
	}
	order := make(chan fired, 10)
	start = time.Now()
	for _, i := range []int{5, 2, 8, 1, 9, 3, 7, 4, 6, 0} {
		i := i
		time.AfterFunc(time.Duration(10+i*15)*time.Millisecond, func() { order <- fired{i, time.Since(start)} })
	}
	var got []int
	early := ""
	for len(got) < 10 {
		f := <-order
		got = append(got, f.i)
		if deadline := time.Duration(10+f.i*15) * time.Millisecond; !within(f.at, deadline) {
			early += fmt.Sprintf(" timer %d at %v (deadline %v)", f.i, f.at, deadline)
		}
	}
	sort.Ints(got)
	check("10 AfterFunc timers each fire once, at or after their deadline", early == "" && fmt.Sprint(got) == "[0 1 2 3 4 5 6 7 8 9]", early+" "+fmt.Sprint(got))

	// A stopped timer never fires; a reset timer fires once, later.
	t := time.NewTimer(20 * time.Millisecond)
	check("Stop on a pending timer reports true", t.Stop(), "")
	start = time.Now()
	t.Reset(40 * time.Millisecond)
	<-t.C
	d = time.Since(start)
	check("Reset timer fires after its new duration", within(d, 40*time.Millisecond), d.String())
	select {
	case <-t.C:
		check("timer fires only once", false, "second value on C")
	case <-time.After(60 * time.Millisecond):
		check("timer fires only once", true, "")
	}

	// A ticker delivers ticks at its period.
	start = time.Now()
	tk := time.NewTicker(20 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-tk.C
	}
	tk.Stop()
	d = time.Since(start)
	check("5 ticks of 20ms", within(d, 100*time.Millisecond), d.String())

	// Timeouts in select and context.
	ch := make(chan int)
	start = time.Now()
	select {
	case <-ch:
		check("select timeout", false, "received from a silent channel")
	case <-time.After(30 * time.Millisecond):
		d = time.Since(start)
		check("select with time.After(30ms)", within(d, 30*time.Millisecond), d.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	<-ctx.Done()
	d = time.Since(start)
	check("context.WithTimeout(30ms)", ctx.Err() == context.DeadlineExceeded && d < 30*time.Millisecond+slack, d.String())

	// Many goroutines sleeping at once all wake.
	done := make(chan struct{}, 1000)
	start = time.Now()
	for i := 0; i < 1000; i++ {
		go func(i int) { time.Sleep(time.Duration(i%50) * time.Millisecond); done <- struct{}{} }(i)
	}
	for i := 0; i < 1000; i++ {
		<-done
	}
	d = time.Since(start)
	check("1000 sleeping goroutines wake", within(d, 49*time.Millisecond), d.String())

	// Monotonic and wall clocks move forward together.
	w0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	w1 := time.Now()
	wall := w1.Round(0).Sub(w0.Round(0))
	check("wall clock advances with the monotonic clock", wall > 0 && wall < 20*time.Millisecond+slack, wall.String())
	check("wall clock is after 2020", w1.Year() >= 2020, w1.String())

	if failed {
		os.Exit(1)
	}
}
