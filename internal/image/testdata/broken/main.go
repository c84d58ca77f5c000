// Command broken does not compile; building it must fail clearly.
package main

func main() { undefinedFunction() }
