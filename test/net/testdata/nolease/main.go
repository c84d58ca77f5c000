// Command nolease boots on a network without a DHCP server
// (xairrosx.ip=dhcp): by the time main runs, the network service has given
// up waiting for a lease. It prints the lease it has (none) and what a
// connection attempt through the NIC gives.
package main

import (
	"fmt"
	"net"
	"time"

	"github.com/xairrosx/xairrosx/services/netsvc"
)

func main() {
	fmt.Printf("lease: %q\n", netsvc.Lease().Addr)
	_, err := net.DialTimeout("tcp", "10.0.2.2:80", 5*time.Second)
	fmt.Println("dial:", err)
}
