// Command vulnapp links old versions of a few modules that have known
// vulnerabilities; the differential test scans the binary.
package main

import (
	"fmt"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/ssh"
	"golang.org/x/net/html"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v2"
)

func main() {
	_, err := html.Parse(nil)
	var v map[string]any
	fmt.Println(err, language.English, ssh.KeyAlgoED25519, websocket.TextMessage, yaml.Unmarshal([]byte("a: 1"), &v))
}
