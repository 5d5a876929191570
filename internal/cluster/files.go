package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Limits on manifests read by LoadFiles.
const (
	// MaxManifestSize bounds one manifest file, in bytes.
	MaxManifestSize = 64 << 20
	// MaxDocuments bounds the documents (and List items) of one load.
	MaxDocuments = 200000
)

// DocumentError is an invalid document: YAML or JSON that does not
// parse, an object without apiVersion or kind, or fields of the wrong
// type for its kind.
type DocumentError struct {
	// File is the file the document is in ("-" for standard input).
	File string
	// Line is the line (from 1) where the document, or the error inside
	// it when the parser says, starts.
	Line int
	// Err says what is wrong.
	Err error
}

// Error implements error: "FILE:LINE: what".
func (e *DocumentError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns what is wrong.
func (e *DocumentError) Unwrap() error { return e.Err }

// Source is where an object was loaded from: a file and line, or the
// API server.
type Source struct {
	// File is the manifest file; empty for objects read from the API.
	File string
	// Line is the line of the object's document in File.
	Line int
}

// String returns "FILE:LINE", or "api" for live objects.
func (s Source) String() string {
	if s.File == "" {
		return "api"
	}
	return s.File + ":" + strconv.Itoa(s.Line)
}

// FileOptions tune LoadFiles.
type FileOptions struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Namespace is given to namespaced objects that name none, as
	// `kubectl apply -n` does; empty means "default".
	Namespace string
}

// LoadFiles reads manifests from paths into a Snapshot. A path is a file
// (read whatever its name), a directory (every *.yaml, *.yml and *.json
// file below it, recursively, in lexical order) or "-" for standard input
// (opts.Stdin). A file holds one or more YAML documents separated by
// "---" lines (the output of `helm template` and `kubectl get -o yaml`),
// or JSON; an object of kind List, or any kind ending in "List" with
// items, contributes its items. Empty documents are skipped. Kinds the
// Snapshot does not hold by type are kept in Other.
//
// Errors: an unreadable path or a file over MaxManifestSize; invalid
// documents, each a *DocumentError naming file and line, joined with
// errors.Join so every one is reported (the Snapshot is then nil); more
// than MaxDocuments documents; ctx's error.
func LoadFiles(ctx context.Context, paths []string, opts FileOptions) (*Snapshot, error) {
	l := &fileLoader{snap: &Snapshot{}, namespace: opts.Namespace}
	if l.namespace == "" {
		l.namespace = "default"
	}
	stdin := opts.Stdin
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p == "-" {
			if stdin == nil {
				return nil, errors.New("read -: no standard input")
			}
			data, err := io.ReadAll(io.LimitReader(stdin, MaxManifestSize+1))
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			if err := l.file("-", data); err != nil {
				return nil, err
			}
			continue
		}
		if err := l.path(ctx, p); err != nil {
			return nil, err
		}
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return l.snap, nil
}

type fileLoader struct {
	snap      *Snapshot
	namespace string
	docs      int
	errs      []error
}

// path loads a file or a directory tree.
func (l *fileLoader) path(ctx context.Context, p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("read manifests: %w", err)
	}
	if !fi.IsDir() {
		return l.readFile(p)
	}
	return filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read manifests: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".yaml", ".yml", ".json":
			return l.readFile(name)
		}
		return nil
	})
}

func (l *fileLoader) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("read manifests: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return l.file(name, data)
}

// file loads the documents of one file's content.
func (l *fileLoader) file(name string, data []byte) error {
	if len(data) > MaxManifestSize {
		return fmt.Errorf("read %s: larger than %d bytes", name, MaxManifestSize)
	}
	for _, doc := range splitDocuments(data) {
		if err := l.document(name, doc.line, doc.content, doc.data); err != nil {
			return err
		}
	}
	return nil
}

// yamlLine finds the line number in a YAML parser's error message.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// document loads one YAML or JSON document whose data starts at line and
// whose first line that is neither blank nor a comment is content.
func (l *fileLoader) document(name string, line, content int, data []byte) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		at := line
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			at = line + n - 1
		}
		l.errs = append(l.errs, &DocumentError{File: name, Line: at, Err: fmt.Errorf("invalid YAML: %w", err)})
		return nil
	}
	js = bytes.TrimSpace(js)
	if len(js) == 0 || bytes.Equal(js, []byte("null")) {
		return nil
	}
	return l.object(name, content, js)
}

// object adds one decoded JSON object (or the items of a List).
func (l *fileLoader) object(name string, line int, js []byte) error {
	l.docs++
	if l.docs > MaxDocuments {
		return fmt.Errorf("read manifests: more than %d objects", MaxDocuments)
	}
	bad := func(format string, args ...any) error {
		l.errs = append(l.errs, &DocumentError{File: name, Line: line, Err: fmt.Errorf(format, args...)})
		return nil
	}
	if len(js) == 0 || js[0] != '{' {
		return bad("not an object")
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return bad("%v", err)
	}
	switch {
	case head.Kind == "":
		return bad("object has no kind")
	case head.APIVersion == "":
		return bad("%s has no apiVersion", head.Kind)
	case strings.HasSuffix(head.Kind, "List") && head.Items != nil:
		for _, item := range head.Items {
			if err := l.object(name, line, bytes.TrimSpace(item)); err != nil {
				return err
			}
		}
		return nil
	}
	k, ok, err := lookupKind(head.APIVersion, head.Kind)
	if err != nil {
		return bad("%v", err)
	}
	if !ok {
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(js); err != nil {
			return bad("%s %s: %v", head.APIVersion, head.Kind, err)
		}
		l.snap.Other = append(l.snap.Other, u)
		l.snap.setSource(Kind(head.Kind), head.Metadata.Namespace, head.Metadata.Name, Source{File: name, Line: line})
		return nil
	}
	ns := head.Metadata.Namespace
	switch {
	case k.namespaced && ns == "":
		ns = l.namespace
		if js, err = withNamespace(js, ns); err != nil {
			return bad("%s %q: %v", head.Kind, head.Metadata.Name, err)
		}
	case !k.namespaced:
		ns = ""
	}
	if err := k.add(l.snap, js); err != nil {
		return bad("%s %q: %v", head.Kind, head.Metadata.Name, err)
	}
	l.snap.setSource(k.kind, ns, head.Metadata.Name, Source{File: name, Line: line})
	return nil
}

// withNamespace sets metadata.namespace in the JSON object js.
func withNamespace(js []byte, ns string) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["namespace"] = ns
	obj["metadata"] = md
	return json.Marshal(obj)
}

// rawDocument is one document of a multi-document YAML file.
type rawDocument struct {
	line    int // of its first line
	content int // of its first line that is neither blank nor a comment
	data    []byte
}

// splitDocuments splits data at "---" lines (a line starting with three
// dashes followed by nothing, a space or a tab), keeping each document's
// first line number. A "..." line ends a document.
func splitDocuments(data []byte) []rawDocument {
	var (
		docs    []rawDocument
		cur     bytes.Buffer
		start   = 1
		content = 0
		n       = 0
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), MaxManifestSize+1)
	flush := func(next int) {
		if content > 0 {
			docs = append(docs, rawDocument{line: start, content: content, data: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
		start, content = next, 0
	}
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if isSeparator(line) {
			flush(n)
			// "--- value" starts the document on the separator's line.
			if rest := bytes.TrimSpace(line[3:]); len(rest) > 0 && rest[0] != '#' {
				cur.Write(rest)
				cur.WriteByte('\n')
				content = n
			} else {
				start = n + 1
			}
			continue
		}
		if bytes.Equal(bytes.TrimRight(line, " \t\r"), []byte("...")) {
			flush(n + 1)
			continue
		}
		if t := bytes.TrimSpace(line); content == 0 && len(t) > 0 && t[0] != '#' {
			content = n
		}
		cur.Write(line)
		cur.WriteByte('\n')
	}
	flush(n + 1)
	return docs
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r'
}
