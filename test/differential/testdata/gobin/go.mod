// A program that links old versions of modules with known vulnerabilities,
// for the differential test (test/differential). Its own module, built in
// place; not part of github.com/kubeshield/kubeshield.
module example.com/vulnapp

go 1.21

require (
	github.com/gorilla/websocket v1.4.0
	golang.org/x/crypto v0.1.0
	golang.org/x/net v0.1.0
	golang.org/x/text v0.4.0
	gopkg.in/yaml.v2 v2.2.2
)

require golang.org/x/sys v0.1.0 // indirect
