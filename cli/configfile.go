package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// loadYAML reads a configuration file into cfg: a mapping of Config's yaml
// names to values. Every error names the file, the line and the setting: an
// unknown setting (a typo must not be ignored), a repeated one, or a value
// of the wrong kind.
func loadYAML(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); errors.Is(err, io.EOF) {
		return nil // an empty file
	} else if err != nil {
		return fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	m := &doc
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: line %d: want settings like \"data: ./cardgate-data\", one a line", path, m.Line)
	}
	fields := yamlFields(cfg)
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		dst, ok := fields[k.Value]
		switch {
		case !ok:
			return fmt.Errorf("config %s: line %d: unknown setting %q; known: %s", path, k.Line, k.Value, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		case seen[k.Value]:
			return fmt.Errorf("config %s: line %d: %s is set twice", path, k.Line, k.Value)
		}
		seen[k.Value] = true
		if err := v.Decode(dst); err != nil {
			return fmt.Errorf("config %s: line %d: %s: %s is not %s", path, v.Line, k.Value, describe(v), kindOf(dst))
		}
	}
	return nil
}

// yamlFields maps each of cfg's yaml names to a pointer to its field.
func yamlFields(cfg *Config) map[string]any {
	v := reflect.ValueOf(cfg).Elem()
	fields := make(map[string]any, v.NumField())
	for i := range v.NumField() {
		if name := v.Type().Field(i).Tag.Get("yaml"); name != "" && name != "-" {
			fields[name] = v.Field(i).Addr().Interface()
		}
	}
	return fields
}

// describe names a YAML value for errors.
func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", v.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "this value"
}

// kindOf describes what a setting wants, for errors.
func kindOf(dst any) string {
	switch dst.(type) {
	case *string:
		return "a string"
	default:
		if reflect.TypeOf(dst).Elem().String() == "time.Duration" {
			return "a duration like 30m"
		}
		return "a " + reflect.TypeOf(dst).Elem().String()
	}
}
