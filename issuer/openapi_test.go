package issuer_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// openAPIPath is docs/openapi.yaml, seen from this package's directory.
const openAPIPath = "../docs/openapi.yaml"

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// registeredRoutes reads the routes the package registers from its source:
// the pattern of every Handle or HandleFunc call in a non-test file. A call
// whose pattern is not a string literal is an error, so no route escapes.
func registeredRoutes(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	routes := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(call.Args) != 2 {
				return true
			}
			pos := fset.Position(call.Pos())
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: route pattern is not a string literal; this test cannot check it against the OpenAPI document", pos)
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: %v", pos, err)
			}
			method, path, ok := strings.Cut(pattern, " ")
			if !ok || method == "" || !strings.HasPrefix(path, "/") {
				t.Errorf("%s: pattern %q has no method or is not a plain path; document it or give it a method", pos, pattern)
				return true
			}
			routes[method+" "+openAPIPathOf(path)] = true
			return true
		})
	}
	if !routes["GET /v1/users/me"] {
		t.Fatalf("found no GET /v1/users/me among %d routes: the route parser is broken", len(routes))
	}
	return routes
}

// openAPIPathOf turns a ServeMux path into an OpenAPI path template:
// {name...} becomes {name}, a trailing {$} goes.
func openAPIPathOf(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	return doc
}

// asMap returns v as a map with string keys, whichever map type yaml chose.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}

// operation is one documented (method, path).
type operation struct {
	method, path string
	op           map[string]any
	item         map[string]any
}

func (o operation) String() string { return o.method + " " + o.path }

func documentedOperations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	paths, ok := asMap(doc["paths"])
	if !ok {
		t.Fatal("the document has no paths")
	}
	var ops []operation
	for path, v := range paths {
		item, ok := asMap(v)
		if !ok {
			t.Errorf("paths[%q] is not an object", path)
			continue
		}
		for _, m := range httpMethods {
			if v, found := item[m]; found {
				op, ok := asMap(v)
				if !ok {
					t.Errorf("%s %s is not an object", strings.ToUpper(m), path)
					continue
				}
				ops = append(ops, operation{strings.ToUpper(m), path, op, item})
			}
		}
	}
	return ops
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	registered := registeredRoutes(t)
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for _, o := range documentedOperations(t, doc) {
		documented[o.String()] = true
	}
	var missing, extra []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !registered[d] {
			extra = append(extra, d)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, r := range missing {
		t.Errorf("route %s is registered in issuer but not documented in %s", r, openAPIPath)
	}
	for _, d := range extra {
		t.Errorf("%s documents %s, which issuer does not register", openAPIPath, d)
	}
}

func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	components, _ := asMap(doc["components"])
	schemes, _ := asMap(components["securitySchemes"])
	opIDs := map[string]string{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range documentedOperations(t, doc) {
		responses, ok := asMap(o.op["responses"])
		if !ok || len(responses) == 0 {
			t.Errorf("%s documents no responses", o)
			continue
		}
		has4xx := false
		for code := range responses {
			if n, err := strconv.Atoi(code); (err == nil && n >= 400 && n < 500) || strings.EqualFold(code, "4XX") {
				has4xx = true
			}
		}
		if !has4xx {
			t.Errorf("%s documents no 4xx response", o)
		}

		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", o)
		} else if prev, dup := opIDs[id]; dup {
			t.Errorf("operationId %q is used by %s and %s", id, prev, o)
		} else {
			opIDs[id] = o.String()
		}

		// Every security requirement names a declared scheme.
		if sec, ok := o.op["security"].([]any); ok {
			for _, req := range sec {
				m, _ := asMap(req)
				for name := range m {
					if _, ok := schemes[name]; !ok {
						t.Errorf("%s: security scheme %q is not declared", o, name)
					}
				}
			}
		} else if _, global := doc["security"]; !global {
			t.Errorf("%s: no security requirement (use [] for none)", o)
		}

		// Every {name} in the path is a declared path parameter.
		declared := map[string]bool{}
		for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm, _ := asMap(p)
				if ref, ok := pm["$ref"].(string); ok {
					pm, _ = asMap(resolveRef(doc, ref))
				}
				if pm["in"] == "path" {
					name, _ := pm["name"].(string)
					declared[name] = true
				}
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", o, m[1])
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		if m, ok := asMap(v); ok {
			for k, child := range m {
				if k == "$ref" {
					n++
					ref, ok := child.(string)
					if !ok {
						t.Errorf("%s: $ref is not a string", at)
					} else if resolveRef(doc, ref) == nil {
						t.Errorf("%s: $ref %q does not resolve", at, ref)
					}
					continue
				}
				walk(at+"/"+k, child)
			}
			return
		}
		if s, ok := v.([]any); ok {
			for i, child := range s {
				walk(at+"/"+strconv.Itoa(i), child)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("found no $ref at all: the walk is broken")
	}
}

// resolveRef follows a local JSON pointer ("#/a/b") in doc, or returns nil.
func resolveRef(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil // only local references are used
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			m, ok := asMap(c)
			if !ok {
				return nil
			}
			if cur, ok = m[tok]; !ok {
				return nil
			}
		}
	}
	return cur
}
