package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/xairrosx/xairrosx/internal/qemu"
)

// load is the outcome of one load-generator run.
type load struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
}

// httpBench boots s with the HTTP server on QEMU's user network (static
// address 10.0.2.15/24 on both OSes), a host port forwarded to its port
// 8080, and runs the load generator with each client count in turn.
// Keys: http-cN-rps, http-cN-p50ms, http-cN-p99ms.
func httpBench(s *side, clients []int, d time.Duration) (map[string]float64, error) {
	port, err := qemu.FreePort()
	if err != nil {
		return nil, err
	}
	netArgs, opts, err := qemu.UserNetworkStatic(*machine, []string{fmt.Sprintf("tcp:%d:8080", port)})
	if err != nil {
		return nil, err
	}
	timeout := 3*time.Minute + time.Duration(len(clients))*(d+time.Minute)
	g, err := start(s, opts, []string{"http"}, netArgs, timeout)
	if err != nil {
		return nil, err
	}
	if err := g.waitFor("listening", 2*time.Minute); err != nil {
		g.kill()
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	m := map[string]float64{}
	for _, n := range clients {
		l, err := generate(url, n, d)
		if err != nil {
			g.kill()
			return nil, fmt.Errorf("%s, %d clients: %v", s.name, n, err)
		}
		k := "http-c" + strconv.Itoa(n)
		m[k+"-rps"] = float64(l.requests) / l.elapsed.Seconds()
		m[k+"-p50ms"] = float64(l.p50.Microseconds()) / 1000
		m[k+"-p99ms"] = float64(l.p99.Microseconds()) / 1000
	}
	if _, err := get(http.DefaultClient, url+"stop"); err != nil {
		g.kill()
		return nil, fmt.Errorf("%s: /stop: %v", s.name, err)
	}
	if _, _, err := g.wait(); err != nil {
		return nil, err
	}
	return m, nil
}

// generate runs n clients, each on its own keep-alive connection, that
// GET url one request after the other for d (after one untimed request
// each, which opens the connection), and returns the count, the time and
// the latency percentiles.
func generate(url string, n int, d time.Duration) (load, error) {
	clients := make([]*http.Client, n)
	for i := range clients {
		clients[i] = &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
			Timeout:   30 * time.Second,
		}
		if _, err := get(clients[i], url); err != nil {
			return load{}, fmt.Errorf("first request: %v", err)
		}
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	var (
		mu   sync.Mutex
		lats []time.Duration
		ferr error
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t, err := get(c, url)
				if err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				mine = append(mine, t)
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if ferr != nil {
		return load{}, ferr
	}
	if len(lats) == 0 {
		return load{}, fmt.Errorf("no request completed in %v", d)
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	return load{requests: len(lats), elapsed: el, p50: pct(0.50), p99: pct(0.99)}, nil
}

// get does one GET, reads the whole body, and returns the latency.
func get(c *http.Client, url string) (time.Duration, error) {
	t := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return time.Since(t), err
}
