// Package forms is Kaizala's form model on top of cardgate's stored forms:
// it reads an action package's AppModel.json (checked against Kaizala's
// appModel_schema.json) and the KASForm a creator submits, and turns stored
// forms, responses and memberships into the JSON that KASClient.js's
// fromJSON functions read: KASForm, KASFormResponse, KASFormFlatSummary,
// KASFormProcessedSummary and KASFormAggregatedSummary. Summaries are
// computed here, on the server, never by the card.
//
// The rules (who may respond, who may see results) are cardgate.Form's;
// CanRespond and CanSeeResults look the user's membership up and apply
// them, so that a bridge command is a lookup, a check and an encoding.
package forms

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cardgate/cardgate"
)

// AppModelFile is the app model's name inside an action package.
const AppModelFile = "AppModel.json"

// appModelSchema is Kaizala's appModel_schema.json, byte for byte (a test
// compares it with the published file).
//
//go:embed appmodel_schema.json
var appModelSchema []byte

// schema is appModelSchema compiled once; it never changes.
var schema = func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(appModelSchema))
	if err != nil {
		panic("forms: appmodel_schema.json: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("appModel_schema.json", doc); err != nil {
		panic("forms: appmodel_schema.json: " + err.Error())
	}
	return c.MustCompile("appModel_schema.json")
}()

// AppModel is an action package's AppModel.json: the form a creator starts
// from. Raw is the file as it came.
type AppModel struct {
	Raw []byte `json:"-"`
	// Warnings are the schema's length limits the file goes beyond. They
	// are not refused: Microsoft's own sample-request-response-action has
	// a 34-character title where the schema says 32, and Kaizala took it.
	// cardgate's own limits (cardgate.MaxFormTextLen) still hold.
	Warnings []string `json:"-"`

	Title      string `json:"title"`
	Visibility string `json:"visibility"`
	// IsAnonymous defaults to false and IsResponseAppended to true, as the
	// schema says.
	IsAnonymous         *bool `json:"isAnonymous"`
	IsResponseAppended  *bool `json:"isResponseAppended"`
	IsLocationRequested bool  `json:"isLocationRequested"`
	// Expiry, beyond the schema but in Microsoft's samples: Unix
	// milliseconds; absent or 0 is none.
	Expiry     json.Number        `json:"expiry"`
	Questions  []appModelQuestion `json:"questions"`
	Properties []appModelProperty `json:"properties"`
}

type appModelQuestion struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Options []struct {
		Title string `json:"title"`
	} `json:"options"`
}

type appModelProperty struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ParseAppModel reads and checks an AppModel.json. Every way it breaks
// Kaizala's schema is reported at once, each naming its field
// (questions[2].title: ...), as one EINVALID error.
func ParseAppModel(raw []byte) (*AppModel, error) {
	if len(raw) > cardgate.MaxAppModelLen {
		return nil, cardgate.Errorf(cardgate.EINVALID, "%s: must be at most %d bytes", AppModelFile, cardgate.MaxAppModelLen)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, cardgate.Errorf(cardgate.EINVALID, "%s: not JSON: %s", AppModelFile, jsonError(err))
	}
	am := &AppModel{Raw: raw}
	if err := schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("forms: validate %s: %w", AppModelFile, err)
		}
		problems, warnings := schemaProblems(ve)
		if len(problems) > 0 {
			return nil, cardgate.Errorf(cardgate.EINVALID, "%s: %s", AppModelFile, strings.Join(problems, "; "))
		}
		am.Warnings = warnings
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(am); err != nil {
		// The schema passed, so this is a field beyond it of another type.
		return nil, cardgate.Errorf(cardgate.EINVALID, "%s: %s", AppModelFile, jsonError(err))
	}
	if am.Expiry != "" {
		if _, err := am.Expiry.Int64(); err != nil {
			return nil, cardgate.Errorf(cardgate.EINVALID, "%s: expiry: must be a time in Unix milliseconds", AppModelFile)
		}
	}
	for i, q := range am.Questions {
		t, _ := cardgate.ParseQuestionType(q.Type)
		if t.HasOptions() && len(q.Options) == 0 {
			return nil, cardgate.Errorf(cardgate.EINVALID, "%s: questions[%d].options: a %s question needs options", AppModelFile, i, q.Type)
		}
		if !t.HasOptions() && len(q.Options) > 0 {
			return nil, cardgate.Errorf(cardgate.EINVALID, "%s: questions[%d].options: a %s question has no options", AppModelFile, i, q.Type)
		}
	}
	return am, nil
}

// schemaProblems words each failure of the schema as "field: problem",
// sorted, the field in the dotted form people write
// (questions[2].options[0].title). Lengths beyond the schema's maxLength
// are warnings; the rest are problems.
func schemaProblems(ve *jsonschema.ValidationError) (problems, warnings []string) {
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		if msg == "validation failed" {
			continue
		}
		line := fieldName(u.InstanceLocation) + ": " + msg
		if strings.HasSuffix(u.KeywordLocation, "/maxLength") {
			warnings = append(warnings, line)
		} else {
			problems = append(problems, line)
		}
	}
	if len(problems) == 0 && len(warnings) == 0 {
		problems = append(problems, "does not match Kaizala's appModel_schema.json")
	}
	slices.Sort(problems)
	slices.Sort(warnings)
	return slices.Compact(problems), slices.Compact(warnings)
}

// fieldName turns a JSON pointer (/questions/2/title) into a field name
// (questions[2].title); the root is "(the app model)".
func fieldName(ptr string) string {
	if ptr == "" {
		return "(the app model)"
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// jsonError words a JSON syntax error without echoing the input.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s: must be %s, not %s", te.Field, kindOf(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("must be %s, not %s", kindOf(te.Type.Kind().String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func kindOf(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "a number"
}

// propertyTypes maps the AppModel's property types (the schema lists the
// question types) to KASFormPropertyType.
var propertyTypes = map[string]cardgate.PropertyType{
	"Text": cardgate.PropertyText, "Numeric": cardgate.PropertyNumeric, "Location": cardgate.PropertyLocation,
	"DateTime": cardgate.PropertyDateTime, "MultiSelect": cardgate.PropertyArray,
	"SingleSelect": cardgate.PropertyText, "Image": cardgate.PropertyText,
}

// Origin is what the server, not the card, decides about a new form.
type Origin struct {
	ID, ConversationID, PackageID, CreatorID string
	// ResponsesEditable is the package's ChatCanvasCardView
	// isResponseEditable (actionpkg.Manifest.CardView).
	ResponsesEditable bool
	CreatedAt         time.Time
}

// Form returns the form the app model describes, sent by o: its title,
// questions (numbered from 0, each editable), properties and settings,
// with Raw as the form's AppModel.
func (am *AppModel) Form(o Origin) *cardgate.Form {
	f := &cardgate.Form{ID: o.ID, ConversationID: o.ConversationID, PackageID: o.PackageID, CreatorID: o.CreatorID,
		Title: am.Title, AppModel: json.RawMessage(am.Raw), Visibility: cardgate.ResultsAll,
		SeveralPerUser: true, ResponsesEditable: o.ResponsesEditable, LocationRequested: am.IsLocationRequested,
		CreatedAt: o.CreatedAt, Questions: []cardgate.Question{}, Properties: []cardgate.FormProperty{}}
	if am.Visibility != "" {
		f.Visibility = cardgate.ResultVisibility(am.Visibility)
	}
	if am.IsAnonymous != nil {
		f.Anonymous = *am.IsAnonymous
	}
	if am.IsResponseAppended != nil {
		f.SeveralPerUser = *am.IsResponseAppended
	}
	if ms, _ := am.Expiry.Int64(); ms > 0 {
		f.Expiry = time.UnixMilli(ms).UTC()
	}
	for i, q := range am.Questions {
		t, _ := cardgate.ParseQuestionType(q.Type)
		cq := cardgate.Question{ID: i, Title: q.Title, Type: t, Editable: true}
		for j, o := range q.Options {
			cq.Options = append(cq.Options, cardgate.QuestionOption{ID: j, Text: o.Title})
		}
		f.Questions = append(f.Questions, cq)
	}
	for _, p := range am.Properties {
		f.Properties = append(f.Properties, cardgate.FormProperty{Name: p.Name, Type: propertyTypes[p.Type], Value: p.Value})
	}
	return f
}

// msTime converts Kaizala's Unix milliseconds; 0 is the zero time.
func msTime(ms float64) (time.Time, bool) {
	if ms == 0 {
		return time.Time{}, true
	}
	if ms < 0 || ms > 1e15 || ms != math.Trunc(ms) {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

// millis is msTime in reverse.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
