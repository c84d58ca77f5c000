// Command server serves HTTP on port 8080 until it has answered one request
// to /stop, for the test that reaches it from the host through QEMU's user
// network and a port forward.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Println("listening")
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from XairrosX, you sent %d bytes\n", r.ContentLength)
	})
	mux.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "stopping")
		close(done)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	<-done
	// Let the /stop response go out before exiting: the handler goroutine
	// may still be writing it.
	srv.Shutdown(context.Background())
	fmt.Println("served")
}
