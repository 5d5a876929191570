// Command app is a fixture for the go-binary cataloger's tests: a small
// program of the main module that links some of its dependencies.
package main

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
	"github.com/package-url/packageurl-go"
	"golang.org/x/sync/errgroup"
)

func main() {
	var g errgroup.Group
	p := packageurl.NewPackageURL("golang", "example.com", "app", "v1.0.0", nil, "")
	fmt.Println(cmp.Equal(1, 1), p.ToString(), g.Wait())
}
