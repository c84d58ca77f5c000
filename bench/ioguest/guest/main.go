// Command guest is the workload of the I/O benchmark, the same binary on
// XairrosX and in the Linux guest (run there by bench/ioguest/linuxinit):
//
//	guest http             serve HTTP on :8080 until a request to /stop
//	guest tcp-recv         accept one TCP connection on :9000, count what
//	                       arrives until EOF, answer with the count
//	guest tcp-send ADDR N  send N MiB to ADDR, wait for the answer
//	guest disk DIR         read DIR/big sequentially (cold), then append
//	                       4 KiB blocks to DIR/fsync.dat with an fsync each
//	guest raw              read the first virtio-blk disk raw (Linux:
//	                       /dev/vda with O_DIRECT; XairrosX: its driver)
//
// Results are lines "BENCH name value" on stdout (value in the unit the
// name ends with); a measurement that failed prints "BENCHERR name error".
// "listening" announces a server, "BENCH done" the end.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "http":
		serveHTTP()
	case "tcp-recv":
		tcpRecv()
	case "tcp-send":
		if len(os.Args) != 4 {
			usage()
		}
		mib, err := strconv.Atoi(os.Args[3])
		if err != nil || mib < 1 {
			fail("tcp-send: %q is not a positive number of MiB", os.Args[3])
		}
		tcpSend(os.Args[2], mib)
	case "disk":
		if len(os.Args) != 3 {
			usage()
		}
		disk(os.Args[2])
	case "raw":
		raw()
	default:
		usage()
	}
	fmt.Println("BENCH done")
}

func usage() {
	fmt.Println("usage: guest http | tcp-recv | tcp-send ADDR MIB | disk DIR | raw")
	os.Exit(2)
}

func fail(format string, args ...any) {
	fmt.Printf("guest: "+format+"\n", args...)
	os.Exit(1)
}

func result(name string, v float64) { fmt.Printf("BENCH %s %.3f\n", name, v) }

func resultErr(name string, err error) { fmt.Printf("BENCHERR %s %v\n", name, err) }

// serveHTTP answers GET / with a short body, on keep-alive connections.
func serveHTTP() {
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fail("listen: %v", err)
	}
	done := make(chan struct{})
	mux := http.NewServeMux()
	body := []byte("hello from the I/O benchmark guest\n")
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	mux.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("stopping\n"))
		close(done)
	})
	go http.Serve(ln, mux)
	fmt.Println("listening")
	<-done
	time.Sleep(200 * time.Millisecond) // let the answer to /stop go out
}

// tcpRecv counts the bytes of one connection and answers with the count
// (8 bytes, little-endian) after the sender's EOF.
func tcpRecv() {
	ln, err := net.Listen("tcp", ":9000")
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		fail("accept: %v", err)
	}
	buf := make([]byte, 256<<10)
	var n int64
	start := time.Now()
	for {
		m, err := c.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("read after %d bytes: %v", n, err)
		}
	}
	el := time.Since(start)
	var ack [8]byte
	binary.LittleEndian.PutUint64(ack[:], uint64(n))
	if _, err := c.Write(ack[:]); err != nil {
		fail("answer: %v", err)
	}
	c.Close()
	fmt.Printf("received %d bytes in %v\n", n, el)
	time.Sleep(time.Second) // let the FIN go out before the machine stops
}

// tcpSend streams mib MiB to addr, then waits for the receiver's count;
// the time runs from the connection's establishment to the count.
func tcpSend(addr string, mib int) {
	var c net.Conn
	var err error
	for i := 0; i < 150; i++ {
		if c, err = net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		fail("dial %s: %v", addr, err)
	}
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	total := int64(mib) << 20
	start := time.Now()
	for sent := int64(0); sent < total; sent += int64(len(buf)) {
		if _, err := c.Write(buf); err != nil {
			fail("write after %d bytes: %v", sent, err)
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		fail("shutdown: %v", err)
	}
	var ack [8]byte
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		fail("reading the receiver's count: %v", err)
	}
	el := time.Since(start)
	if got := int64(binary.LittleEndian.Uint64(ack[:])); got != total {
		fail("receiver counted %d bytes, sent %d", got, total)
	}
	c.Close()
	result("tcp-MBps", float64(total)/1e6/el.Seconds())
}

// disk reads dir/big front to back in 1 MiB calls (the file was written on
// the host, so nothing of it is cached in the guest), then times 4 KiB
// appends each followed by fsync on dir/fsync.dat for fsyncTime.
func disk(dir string) {
	const fsyncTime, fsyncMax = 2 * time.Second, 2000
	mbps, err := readAll(dir+"/big", 1<<20, 0)
	report("seqread-MBps", mbps, err)
	f, err := os.OpenFile(dir+"/fsync.dat", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		resultErr("fsync-per-s", err)
		return
	}
	defer f.Close()
	block := make([]byte, 4096)
	start := time.Now()
	n := 0
	for ; n < fsyncMax && time.Since(start) < fsyncTime; n++ {
		block[0] = byte(n)
		if _, err := f.Write(block); err != nil {
			resultErr("fsync-per-s", fmt.Errorf("write %d: %v", n, err))
			return
		}
		if err := f.Sync(); err != nil {
			resultErr("fsync-per-s", fmt.Errorf("fsync %d: %v", n, err))
			return
		}
	}
	result("fsync-per-s", float64(n)/time.Since(start).Seconds())
	if st, err := f.Stat(); err != nil || st.Size() != int64(n)*4096 {
		resultErr("fsync-size", fmt.Errorf("file size %v after %d appends (%v)", st.Size(), n, err))
	}
}

// readAll reads the file at path with reads of size bytes (opening it with
// the extra flags) and returns MB/s.
func readAll(path string, size int, flags int) (float64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|flags, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return timeRead(f, alignedBuffer(size))
}

// timeRead reads r to its end with reads of len(buf) and returns MB/s.
func timeRead(r io.ReaderAt, buf []byte) (float64, error) {
	start := time.Now()
	var total int64
	var sum byte
	for {
		n, err := r.ReadAt(buf, total)
		total += int64(n)
		if n > 0 {
			sum ^= buf[n-1]
		}
		if err == io.EOF || (err == nil && n < len(buf)) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read at %d: %v", total, err)
		}
	}
	el := time.Since(start)
	if total == 0 {
		return 0, fmt.Errorf("nothing to read")
	}
	fmt.Printf("read %d bytes in %v (checksum %d)\n", total, el, sum)
	return float64(total) / 1e6 / el.Seconds(), nil
}
