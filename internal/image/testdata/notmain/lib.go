// Package notmain is not a main package; building it must fail clearly.
package notmain

// X is here so the package is not empty.
var X = 1
