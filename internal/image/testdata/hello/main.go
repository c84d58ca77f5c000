// Command hello is a test program for the image builder.
package main

import "fmt"

func main() { fmt.Println("hello") }
