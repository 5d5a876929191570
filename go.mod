module github.com/kubeshield/kubeshield

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0
	github.com/package-url/packageurl-go v0.1.7
	golang.org/x/sync v0.25.0
)
