// Package lib is a local module that the replaced fixture uses through a
// directory replacement.
package lib

// Hello returns a greeting.
func Hello() string { return "hello" }
