// Command replaced is a fixture for the go-binary cataloger's tests: a module
// with a directory replacement and a module replacement.
package main

import (
	"fmt"

	"example.com/lib"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
)

func main() {
	var g errgroup.Group
	pflag.Parse()
	fmt.Println(lib.Hello(), g.Wait())
}
