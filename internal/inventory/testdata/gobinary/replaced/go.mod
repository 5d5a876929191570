module example.com/replaced

go 1.26.0

require (
	example.com/lib v1.0.0
	github.com/spf13/pflag v1.0.10
	golang.org/x/sync v0.25.0
)

// A local directory replacement: reported as example.com/lib (devel).
replace example.com/lib v1.0.0 => ./lib

// A module replacement: reported as golang.org/x/sync v0.24.0.
replace golang.org/x/sync => golang.org/x/sync v0.24.0
