// Command forever never exits: a goroutine sleeps and wakes forever, so
// the runtime sees no deadlock. It is the hung guest that xairrosx run's
// -timeout must kill.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("running forever")
	for {
		time.Sleep(50 * time.Millisecond)
	}
}
