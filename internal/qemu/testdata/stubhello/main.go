// Command stubhello is the main package linked with the stub kernel in the
// tests; its own code never runs.
package main

func main() {}
