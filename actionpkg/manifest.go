// Package actionpkg reads action packages: a folder or zip holding a
// Kaizala package.json and the card's files. The manifest is checked
// against the fields of Kaizala's manifest schema (and those Kaizala's docs
// and samples add): every problem is reported at once, each naming its
// field; a field Kaizala does not know is a warning, and kept. Packages that
// are too large or whose paths try to escape the package are refused.
package actionpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cardgate/cardgate"
)

// ManifestFile is the manifest's name inside a package.
const ManifestFile = "package.json"

// The views Kaizala defines. CreationView is the page a card opens at.
const (
	CreationView        = "CreationView"
	ResponseView        = "ResponseView"
	ResponseResultsView = "ResponseResultsView"
	ChatCanvasCardView  = "ChatCanvasCardView"
	// legacyEntryView is the entry view of cardgate's first manifest format.
	legacyEntryView = "main"
)

// Manifest is a package.json. Raw is the manifest exactly as it came (what
// the store keeps); the other fields are typed views of what cardgate uses.
type Manifest struct {
	Raw []byte `json:"-"`

	ID            string      `json:"id"`
	SchemaVersion json.Number `json:"schemaVersion"`
	DisplayName   string      `json:"displayName"`
	// Version and MinorVersion may be JSON strings or numbers; they are kept
	// as the text they were written as ("1", "1.2.0").
	Version          string `json:"version"`
	MinorVersion     string `json:"minorVersion,omitempty"`
	Description      string `json:"description"`
	ProviderName     string `json:"providerName"`
	Icon             string `json:"icon,omitempty"`
	AppModel         string `json:"appModel,omitempty"`
	ActionScope      string `json:"actionScope,omitempty"`
	ParentTemplateID string `json:"parentTemplateId,omitempty"`
	// Dials are Kaizala's switches (isLocalised, isPinned, forTesting).
	Dials map[string]any `json:"dials,omitempty"`
	// Views by name: CreationView, ResponseView, ResponseResultsView,
	// ChatCanvasCardView (and "main" in cardgate's first format).
	Views map[string]View `json:"views"`
	// ExternalURLs are the only URLs the card may reach: the cards origin
	// puts them in the page's Content-Security-Policy (connect-src). The
	// manifest may write each as a string or, as Kaizala does, {"url": …}.
	ExternalURLs []string `json:"externalUrls"`

	doc map[string]any // the decoded manifest, for Validate
}

// View is one view of a card: an HTML page (sourceLocation) or, for
// ChatCanvasCardView, the native card's settings and its optional JSON
// layout file.
type View struct {
	SourceLocation string `json:"sourceLocation,omitempty"`
	LabelHeader    string `json:"labelHeader,omitempty"`
	Label          string `json:"label,omitempty"` // cardgate's first format
	// Settings holds every member of the view as it came (strings,
	// booleans, json.Number).
	Settings map[string]any `json:"-"`
}

// Flag returns a boolean setting of the view; absent, it is def (Kaizala's
// schema defaults its show* and is* settings to true).
func (v View) Flag(name string, def bool) bool {
	if b, ok := v.Settings[name].(bool); ok {
		return b
	}
	return def
}

// Text returns a string setting of the view, "" when absent.
func (v View) Text(name string) string {
	s, _ := v.Settings[name].(string)
	return s
}

// CardView is the ChatCanvasCardView's settings with Kaizala's defaults
// applied: the native card shown in the conversation.
type CardView struct {
	// SourceLocation is the card's JSON layout file, "" for the default card.
	SourceLocation                                                                string
	LabelRespondToForm, LabelResponded, LabelUpdateResponse, LabelAnotherResponse string
	LabelExpiryMsg, LabelResponseSending, LabelResponseFailed                     string
	ShowExpiry, ShowResponseCount, ShowHeader, ShowFooter, IsResponseEditable     bool
	// Not in the schema; Microsoft's samples turn them off, so on is taken
	// as the default.
	ShowReceipts, ShowLikes, ShowComments bool
}

// CardView returns the ChatCanvasCardView settings, defaults applied.
func (m *Manifest) CardView() CardView {
	v := m.Views[ChatCanvasCardView]
	return CardView{
		SourceLocation:       v.SourceLocation,
		LabelRespondToForm:   v.Text("labelRespondToForm"),
		LabelResponded:       v.Text("labelResponded"),
		LabelUpdateResponse:  v.Text("labelUpdateResponse"),
		LabelAnotherResponse: v.Text("labelAnotherResponse"),
		LabelExpiryMsg:       v.Text("labelExpiryMsg"),
		LabelResponseSending: v.Text("labelResponseSending"),
		LabelResponseFailed:  v.Text("labelResponseFailed"),
		ShowExpiry:           v.Flag("showExpiry", true),
		ShowResponseCount:    v.Flag("showResponseCount", true),
		ShowHeader:           v.Flag("showHeader", true),
		ShowFooter:           v.Flag("showFooter", true),
		IsResponseEditable:   v.Flag("isResponseEditable", true),
		ShowReceipts:         v.Flag("showReceipts", true),
		ShowLikes:            v.Flag("showLikes", true),
		ShowComments:         v.Flag("showComments", true),
	}
}

// EntryPage is the page a card opens at: the CreationView's sourceLocation,
// Kaizala's entry (or, for a package in cardgate's first format, the "main"
// view's). "" when there is none; an imported package always has one.
func (m *Manifest) EntryPage() string {
	if v, ok := m.Views[CreationView]; ok {
		return v.SourceLocation
	}
	return m.Views[legacyEntryView].SourceLocation
}

// Problem is one thing wrong with (or, as a warning, unusual in) a
// manifest, naming the field by its path, like views.CreationView.sourceLocation.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// ParseManifest decodes a package.json without judging its fields: it is
// how a stored manifest, checked when it was imported, is read back. It
// fails only on what is not one JSON object.
func ParseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, syntaxError(b, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("package.json: must hold one JSON object and nothing after it")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, invalid("package.json: must be a JSON object")
	}
	m := &Manifest{Raw: b, doc: obj}
	m.ID = text(obj["id"])
	if n, ok := obj["schemaVersion"].(json.Number); ok {
		m.SchemaVersion = n
	} else if s, ok := obj["schemaVersion"].(string); ok {
		m.SchemaVersion = json.Number(s)
	}
	m.DisplayName = text(obj["displayName"])
	m.Version = text(obj["version"])
	m.MinorVersion = text(obj["minorVersion"])
	m.Description = text(obj["description"])
	m.ProviderName = text(obj["providerName"])
	m.Icon = text(obj["icon"])
	m.AppModel = text(obj["appModel"])
	m.ActionScope = text(obj["actionScope"])
	m.ParentTemplateID = text(obj["parentTemplateId"])
	m.Dials, _ = obj["dials"].(map[string]any)
	if views, ok := obj["views"].(map[string]any); ok {
		m.Views = make(map[string]View, len(views))
		for name, v := range views {
			settings, _ := v.(map[string]any)
			m.Views[name] = View{
				SourceLocation: text(settings["sourceLocation"]),
				LabelHeader:    text(settings["labelHeader"]),
				Label:          text(settings["label"]),
				Settings:       settings,
			}
		}
	}
	if urls, ok := obj["externalUrls"].([]any); ok {
		for _, u := range urls {
			if o, ok := u.(map[string]any); ok {
				u = o["url"]
			}
			if s, ok := u.(string); ok {
				m.ExternalURLs = append(m.ExternalURLs, s)
			}
		}
	}
	return m, nil
}

// text is a JSON string, or a number as it was written; "" otherwise.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func syntaxError(b []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the offending one included.
		line, col := 1, 1
		for _, c := range b[:max(0, min(int(syn.Offset)-1, len(b)))] {
			if col++; c == '\n' {
				line, col = line+1, 1
			}
		}
		msg := strings.TrimPrefix(syn.Error(), "json: ")
		if i := int(syn.Offset) - 1; i >= 0 && i+1 < len(b) && b[i] == 0xc2 && b[i+1] == 0xa0 {
			msg = "a no-break space (U+00A0), as copying from a web page leaves; JSON allows only plain spaces there"
		}
		return invalid("package.json: malformed JSON at line %d, column %d: %s", line, col, msg)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("package.json: empty or cut short")
	}
	return invalid("package.json: not JSON: %v", err)
}

func invalid(format string, args ...any) error {
	return cardgate.Errorf(cardgate.EINVALID, format, args...)
}

// kind is the JSON type a field must have.
type kind uint8

const (
	kString kind = iota
	kBool
	kStringOrNumber // version: Kaizala's schema says string, its tutorial writes 1
	kObject
	kURLs // externalUrls: strings or {"url": string}
)

var kindName = map[kind]string{kString: "a string", kBool: "true or false", kStringOrNumber: "a string or a number", kObject: "an object", kURLs: "a list of URLs"}

// field says what a manifest member may hold: max is the schema's maxLength
// (characters); fields lists an object's known members.
type field struct {
	kind     kind
	max      int
	required bool
	fields   map[string]field
}

// The fields of package_manifest_schema.json, with its types and
// maxLengths, and those Kaizala's docs and samples use beyond it. cardgate
// requires less than the schema: icon, appModel, ResponseView and
// ResponseResultsView may be missing (Microsoft's own samples and tutorial
// leave them out; cardgate has no forms yet), and schemaVersion may be
// written as a string.
var (
	immersiveView = map[string]field{
		"labelHeader":           {kind: kString, max: 32},
		"sourceLocation":        {kind: kString, max: 32, required: true},
		"showNativeToolbar":     {kind: kBool},
		"backDialogVisibility":  {kind: kBool},
		"backDialogTitle":       {kind: kString, max: 16},
		"backDialogDescription": {kind: kString, max: 32},
	}
	cardView = map[string]field{
		"labelRespondToForm":   {kind: kString, max: 32},
		"labelResponded":       {kind: kString, max: 32},
		"labelUpdateResponse":  {kind: kString, max: 32},
		"labelAnotherResponse": {kind: kString, max: 32},
		"labelExpiryMsg":       {kind: kString, max: 32},
		"showExpiry":           {kind: kBool},
		"showResponseCount":    {kind: kBool},
		"showHeader":           {kind: kBool},
		"showFooter":           {kind: kBool},
		"isResponseEditable":   {kind: kBool},
		// ChatCanvasCardView.md: the card's JSON layout file.
		"sourceLocation": {kind: kString, max: 32},
		// Microsoft's samples (and the screenshot in ChatCanvasCardView.md).
		"labelResponseSending": {kind: kString, max: 64},
		"labelResponseFailed":  {kind: kString, max: 64},
		"showReceipts":         {kind: kBool},
		"showLikes":            {kind: kBool},
		"showComments":         {kind: kBool},
	}
	manifestFields = field{kind: kObject, fields: map[string]field{
		"schemaVersion": {kind: kStringOrNumber, required: true},
		"id":            {kind: kString, max: cardgate.MaxPackageIDLen, required: true},
		"version":       {kind: kStringOrNumber, max: 64, required: true},
		"displayName":   {kind: kString, max: 64, required: true},
		"description":   {kind: kString, max: 128, required: true},
		"providerName":  {kind: kString, max: 64, required: true},
		"icon":          {kind: kString, max: 64},
		"appModel":      {kind: kString, max: 64},
		"views": {kind: kObject, required: true, fields: map[string]field{
			CreationView:        {kind: kObject, fields: immersiveView},
			ResponseView:        {kind: kObject, fields: immersiveView},
			ResponseResultsView: {kind: kObject, fields: immersiveView},
			ChatCanvasCardView:  {kind: kObject, fields: cardView},
			legacyEntryView: {kind: kObject, fields: map[string]field{
				"label":          {kind: kString, max: 128},
				"sourceLocation": {kind: kString, max: 255, required: true},
			}},
		}},
		// Beyond the schema: the tutorial (minorVersion), test.md (dials),
		// UrlWhitelisting.md (externalUrls), the samples (actionScope), and
		// packages made from a template (parentTemplateId).
		"minorVersion":     {kind: kStringOrNumber, max: 64},
		"actionScope":      {kind: kString, max: 64},
		"parentTemplateId": {kind: kString, max: cardgate.MaxPackageIDLen},
		"dials": {kind: kObject, fields: map[string]field{
			"isLocalised": {kind: kBool},
			"isPinned":    {kind: kBool},
			"forTesting":  {kind: kBool},
		}},
		"externalUrls": {kind: kURLs},
	}}
)

// checker gathers every problem and warning of one manifest.
type checker struct {
	problems, warnings []Problem
	bad                map[string]bool // fields with a problem already
}

func (c *checker) problem(f, format string, args ...any) {
	c.bad[f] = true
	c.problems = append(c.problems, Problem{f, fmt.Sprintf(format, args...)})
}

func (c *checker) warn(f, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{f, fmt.Sprintf(format, args...)})
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// walk checks v against f: its type, its length, its members.
func (c *checker) walk(at string, v any, f field) {
	ok := true
	switch f.kind {
	case kString:
		_, ok = v.(string)
	case kBool:
		_, ok = v.(bool)
	case kStringOrNumber:
		switch v.(type) {
		case string, json.Number:
		default:
			ok = false
		}
	case kObject:
		_, ok = v.(map[string]any)
	case kURLs:
		_, ok = v.([]any)
	}
	if !ok {
		c.problem(at, "must be %s", kindName[f.kind])
		return
	}
	if s := text(v); f.max > 0 && utf8.RuneCountInString(s) > f.max {
		c.problem(at, "at most %d characters (Kaizala's limit), not %d", f.max, utf8.RuneCountInString(s))
	}
	switch f.kind {
	case kObject:
		obj := v.(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			sub, known := f.fields[name]
			if !known {
				c.warn(join(at, name), "not a field Kaizala's manifest defines; kept, not used")
				continue
			}
			c.walk(join(at, name), obj[name], sub)
		}
		for _, name := range slices.Sorted(maps.Keys(f.fields)) {
			if _, present := obj[name]; f.fields[name].required && !present {
				c.problem(join(at, name), "required")
			}
		}
	case kURLs:
		for i, u := range v.([]any) {
			item := fmt.Sprintf("%s[%d]", at, i)
			if o, isObj := u.(map[string]any); isObj {
				for _, name := range slices.Sorted(maps.Keys(o)) {
					if name != "url" {
						c.warn(item+"."+name, "not a field Kaizala's manifest defines; kept, not used")
					}
				}
				item, u = item+".url", o["url"]
			}
			s, isStr := u.(string)
			if !isStr {
				c.problem(item, `must be a URL string or {"url": "…"}`)
			} else if err := checkExternalURL(s); err != nil {
				c.problem(item, "%v", err)
			}
		}
	}
}

var semver = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)?$`)

// Validate checks every field; files says which paths the package holds,
// so that the icon, app model and views' files must exist. It returns the
// warnings (fields Kaizala does not define, kept and unused), and one
// EINVALID error listing every problem, each naming its field.
func (m *Manifest) Validate(files map[string]bool) ([]Problem, error) {
	c := &checker{bad: map[string]bool{}}
	c.walk("", m.doc, manifestFields)
	if !c.bad["id"] {
		if err := cardgate.ValidatePackageID("id", m.ID); err != nil {
			c.problem("id", "%s", strings.TrimPrefix(cardgate.ErrorMessage(err), "id: "))
		}
	}
	if !c.bad["schemaVersion"] {
		switch string(m.SchemaVersion) {
		case "1", "1.0", "2", "2.0":
		default:
			c.problem("schemaVersion", "%s is not supported; use 1 or 2", m.SchemaVersion)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"displayName", m.DisplayName}, {"providerName", m.ProviderName}, {"description", m.Description},
	} {
		if !c.bad[f.name] && strings.TrimSpace(f.v) == "" {
			c.problem(f.name, "must not be empty")
		}
	}
	if !c.bad["version"] && !semver.MatchString(m.Version) {
		c.problem("version", "%q is not a version like 1 or 1.2.0", m.Version)
	}
	c.file("icon", m.Icon, files)
	c.file("appModel", m.AppModel, files, ".json")
	if !c.bad["views"] {
		_, creation := m.Views[CreationView]
		_, legacy := m.Views[legacyEntryView]
		switch {
		case !creation && !legacy:
			c.problem("views."+CreationView, "required: the page the card opens at")
		case legacy && !creation:
			c.warn("views."+legacyEntryView, "cardgate's first manifest format; Kaizala names the page a card opens at views.CreationView")
		case legacy:
			c.warn("views."+legacyEntryView, "ignored: the card opens at views.CreationView")
		}
		for _, name := range []string{CreationView, ResponseView, ResponseResultsView, legacyEntryView} {
			if v, ok := m.Views[name]; ok {
				c.file("views."+name+".sourceLocation", v.SourceLocation, files, ".html", ".htm")
			}
		}
		if v, ok := m.Views[ChatCanvasCardView]; ok {
			c.file("views."+ChatCanvasCardView+".sourceLocation", v.SourceLocation, files, ".json")
		}
	}
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Field < c.problems[j].Field })
	if len(c.problems) == 1 {
		return c.warnings, invalid("package.json: %s", c.problems[0])
	} else if len(c.problems) > 1 {
		lines := make([]string, len(c.problems))
		for i, p := range c.problems {
			lines[i] = "  " + p.String()
		}
		return c.warnings, invalid("package.json: %d problems:\n%s", len(c.problems), strings.Join(lines, "\n"))
	}
	return c.warnings, nil
}

// file checks that p, if set and well-typed, is a clean relative path the
// package holds with one of the extensions exts (any, if none).
func (c *checker) file(f, p string, files map[string]bool, exts ...string) {
	if p == "" || c.bad[f] {
		return
	}
	clean, err := CleanPath(p)
	if err != nil {
		c.problem(f, "%v", err)
		return
	}
	if ext := strings.ToLower(path.Ext(clean)); len(exts) > 0 && !contains(exts, ext) {
		c.problem(f, "must be a %s file", strings.Join(exts, " or "))
		return
	}
	if files != nil && !files[clean] {
		c.problem(f, "%s is not in the package", clean)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkExternalURL allows https origins (with an optional path prefix), and
// http only on loopback, as a Content-Security-Policy source.
func checkExternalURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL with a host and no query", s)
	}
	if strings.ContainsAny(s, " ;,'\"") || strings.Contains(u.Host, "*") {
		return fmt.Errorf("%q holds characters a Content-Security-Policy source cannot", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%q: http is allowed only on loopback; use https", s)
		}
	default:
		return fmt.Errorf("%q: the scheme must be https (or http on loopback)", s)
	}
	return nil
}

// CleanPath returns p as a clean, relative, slash-separated path inside a
// package, or an error for anything that could name a file outside it.
func CleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path")
	case strings.ContainsAny(p, "\\\x00"):
		return "", fmt.Errorf("%q: backslashes and NUL are not allowed", p)
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("%q: must be relative", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q: must not contain ..", p)
		}
	}
	clean := path.Clean(p)
	if clean == "." || strings.HasPrefix(clean, "../") || len(clean) > 255 {
		return "", fmt.Errorf("%q: not a file path inside the package", p)
	}
	return clean, nil
}
