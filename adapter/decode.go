package adapter

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldError is one problem in a configuration file, located by line and by
// field path ("routes[0].upstream.url").
type FieldError struct {
	File    string
	Line    int
	Field   string
	Message string
}

// Error returns "file:line: field: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// ConfigError lists every problem found in a configuration file.
type ConfigError struct {
	Errors []*FieldError
}

// Error returns each problem on a line of its own.
func (e *ConfigError) Error() string {
	if len(e.Errors) == 1 {
		return "adapter: " + e.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "adapter: %d configuration errors:", len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n\t" + fe.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors.
func (e *ConfigError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// problems collects FieldErrors while a file is decoded and checked. It
// remembers the line of every field it decoded, so that checks made after
// decoding can still name lines.
type problems struct {
	file  string
	lines map[string]int
	errs  []*FieldError
}

func (p *problems) at(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{File: p.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// errf reports a problem with field, at the line of the field or of the
// closest enclosing field that was in the file.
func (p *problems) errf(field, format string, args ...any) {
	p.at(p.line(field), field, format, args...)
}

func (p *problems) line(field string) int {
	for f := field; f != ""; {
		if l, ok := p.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &ConfigError{Errors: p.errs}
}

// readConfig reads and decodes path, reporting every unknown field, wrong
// type and unparsable value by line and field.
func readConfig(path string) (*Config, *problems, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("adapter: read config: %w", err)
	}
	cfg, p := parseConfig(path, b)
	cfg.sum = sha256.Sum256(b)
	return cfg, p, nil
}

func parseConfig(name string, b []byte) (*Config, *problems) {
	p := &problems{file: name, lines: make(map[string]int)}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.at(0, "", "file is empty")
		} else {
			p.at(0, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return &Config{}, p
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.at(extra.Line, "", "only one YAML document is allowed")
	}
	cfg := &Config{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	decodeNode(p, root, reflect.ValueOf(cfg).Elem(), "")
	return cfg, p
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeNode decodes n into v, a value of a config type, recording the line
// of every field and reporting every problem under the field path.
func decodeNode(p *problems, n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		p.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the default
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || d < 0 {
			p.at(n.Line, path, "must be a duration such as 500ms, 10s or 2m")
			return
		}
		v.SetInt(int64(d))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		decodeNode(p, n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.at(n.Line, path, "must be a mapping")
			return
		}
		seen := make(map[string]bool)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			field := join(path, k.Value)
			if seen[k.Value] {
				p.at(k.Line, field, "appears twice")
				continue
			}
			seen[k.Value] = true
			f, ok := fieldByTag(v, k.Value)
			if !ok {
				p.at(k.Line, field, "unknown field%s", suggest(v.Type(), k.Value))
				continue
			}
			p.lines[field] = k.Line
			decodeNode(p, val, f, field)
			p.lines[field] = k.Line
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.at(n.Line, path, "must be a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			decodeNode(p, e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.at(n.Line, path, "must be a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			p.at(n.Line, path, "must be a whole number")
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			p.at(n.Line, path, "must be true or false")
			return
		}
		v.SetBool(b)
	default:
		panic("adapter: config field of unsupported kind " + v.Kind().String())
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name && tag != "" {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// suggest names the known field that name was probably meant to be, or
// lists the known fields.
func suggest(t reflect.Type, name string) string {
	var known []string
	best, bestDist := "", 3
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" {
			continue
		}
		known = append(known, tag)
		if d := distance(strings.ToLower(tag), strings.ToLower(name)); d < bestDist {
			best, bestDist = tag, d
		}
	}
	if best != "" {
		return " (did you mean " + best + "?)"
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
