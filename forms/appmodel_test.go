package forms_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/forms"
	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// TestSchemaIsKaizalas: the schema built into the binary is Kaizala's
// published appModel_schema.json, byte for byte.
func TestSchemaIsKaizalas(t *testing.T) {
	want, err := os.ReadFile(kaizalatest.File(t, "actions/appModel_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("appmodel_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("forms/appmodel_schema.json differs from Kaizala's actions/appModel_schema.json")
	}
}

// sampleAppModel reads AppModel.json out of one of Microsoft's sample
// packages.
func sampleAppModel(t *testing.T, zipName string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(kaizalatest.File(t, "actions/"+zipName))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/AppModel.json") && !strings.Contains(f.Name, "__MACOSX") {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s has no AppModel.json", zipName)
	return nil
}

var origin = forms.Origin{ID: fid, ConversationID: conv, PackageID: "com.microsoft.sample", CreatorID: alice,
	ResponsesEditable: true, CreatedAt: t0}

// TestSampleAppModels: both of Microsoft's sample packages' app models are
// valid, and make the forms they describe.
func TestSampleAppModels(t *testing.T) {
	am, err := forms.ParseAppModel(sampleAppModel(t, "sample-response-action.zip"))
	if err != nil {
		t.Fatal(err)
	}
	f := am.Form(origin)
	if err := f.Validate(); err != nil {
		t.Fatalf("the form from the sample's app model: %v", err)
	}
	if f.Title != "Sample Response Form Title" || len(f.Questions) != 9 || !f.SeveralPerUser || f.Anonymous ||
		f.Visibility != cardgate.ResultsAll || !f.Expiry.Equal(time.UnixMilli(4070908800000)) || !f.ResponsesEditable {
		t.Fatalf("form = %+v", f)
	}
	q := f.Questions[3]
	if q.ID != 3 || q.Type != cardgate.MultiSelect || len(q.Options) != 3 || q.Options[2].Text != "MultiSelect Option3" || q.Options[2].ID != 2 {
		t.Fatalf("question 3 = %+v", q)
	}
	if f.Questions[8].Type != cardgate.DateTime || f.Questions[4].Type != cardgate.Image {
		t.Fatalf("question types = %v, %v", f.Questions[8].Type, f.Questions[4].Type)
	}

	am, err = forms.ParseAppModel(sampleAppModel(t, "sample-request-response-action.zip"))
	if err != nil {
		t.Fatal(err)
	}
	f = am.Form(origin)
	if f.SeveralPerUser || len(f.Questions) != 0 || f.Title != "Sample Request Response Form Title" {
		t.Fatalf("form = %+v", f)
	}
	// Its title is longer than the schema's 32 characters; Kaizala took
	// it, and so does cardgate, with a warning.
	if len(am.Warnings) != 1 || am.Warnings[0] != "title: maxLength: got 34, want 32" {
		t.Fatalf("warnings = %q", am.Warnings)
	}
}

// TestAppModelTooLong: lengths beyond the schema's are warnings, with the
// other problems still refused; beyond cardgate's own limit a title is
// refused when the form is checked.
func TestAppModelTooLong(t *testing.T) {
	long := strings.Repeat("x", 33)
	am, err := forms.ParseAppModel([]byte(`{"title":"` + long + `","questions":[{"title":"` + long + `","type":"Text"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(am.Warnings, "; ") != "questions[0].title: maxLength: got 33, want 32; title: maxLength: got 33, want 32" {
		t.Fatalf("warnings = %q", am.Warnings)
	}
	_, err = forms.ParseAppModel([]byte(`{"title":"` + long + `","visibility":"Nobody"}`))
	if msg := cardgate.ErrorMessage(err); !strings.Contains(msg, "visibility: value must be one of") || strings.Contains(msg, "maxLength") {
		t.Fatalf("err = %v", err)
	}
	am, err = forms.ParseAppModel([]byte(`{"title":"` + strings.Repeat("x", cardgate.MaxFormTextLen+1) + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := am.Form(origin).Validate(); cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), "title: must be at most") {
		t.Fatalf("a title beyond cardgate's limit: %v", err)
	}
}

// TestAppModelDefaults: what the app model leaves out takes the schema's
// defaults: results visible to all, not anonymous, several responses per
// user, no expiry.
func TestAppModelDefaults(t *testing.T) {
	am, err := forms.ParseAppModel([]byte(`{"title":"Poll","properties":[{"name":"tags","type":"MultiSelect","value":"[]"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f := am.Form(origin)
	if f.Visibility != cardgate.ResultsAll || f.Anonymous || !f.SeveralPerUser || !f.Expiry.IsZero() ||
		len(f.Properties) != 1 || f.Properties[0].Type != cardgate.PropertyArray || string(f.AppModel) != string(am.Raw) {
		t.Fatalf("form = %+v", f)
	}
}

// TestAppModelErrors: an app model that breaks Kaizala's schema is refused
// with every problem, each naming its field.
func TestAppModelErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string
	}{
		{"not JSON", `{"title":`, []string{"AppModel.json: not JSON"}},
		{"not an object", `[]`, []string{"(the app model): got array, want object"}},
		{"no title", `{"questions":[]}`, []string{"(the app model): missing property 'title'"}},
		{"unknown visibility", `{"title":"t","visibility":"Sender"}`, []string{"visibility: value must be one of 'All', 'Admin'"}},
		{"flag of the wrong type", `{"title":"t","isAnonymous":"yes"}`, []string{"isAnonymous: got string, want boolean"}},
		{"several at once", `{"title":"t","questions":[{"title":"q","type":"Dropdown"},{"type":"Text","options":[{}]}]}`,
			[]string{"questions[0].type: value must be one of", "questions[1]: missing property 'title'", "questions[1].options[0]: missing property 'title'"}},
		{"property without a value", `{"title":"t","properties":[{"name":"n","type":"Text"}]}`, []string{"properties[0]: missing property 'value'"}},
		{"select without options", `{"title":"t","questions":[{"title":"q","type":"SingleSelect"}]}`, []string{"questions[0].options: a SingleSelect question needs options"}},
		{"options on a text question", `{"title":"t","questions":[{"title":"q","type":"Text","options":[{"title":"o"}]}]}`, []string{"questions[0].options: a Text question has no options"}},
		{"expiry not a time", `{"title":"t","expiry":1.5}`, []string{"expiry: must be a time in Unix milliseconds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := forms.ParseAppModel([]byte(tc.json))
			if cardgate.ErrorCode(err) != cardgate.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			msg := cardgate.ErrorMessage(err)
			if !strings.HasPrefix(msg, "AppModel.json: ") {
				t.Errorf("message %q does not name AppModel.json", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
	if _, err := forms.ParseAppModel(bytes.Repeat([]byte(" "), cardgate.MaxAppModelLen+1)); cardgate.ErrorCode(err) != cardgate.EINVALID {
		t.Errorf("a huge app model: %v", err)
	}
}

// TestApplyKASForm: the creator's KASForm, in either of KASClient's
// shapes, sets the form's title, settings, questions and properties; what
// it leaves out keeps the app model's value; IDs in it are ignored.
func TestApplyKASForm(t *testing.T) {
	am, err := forms.ParseAppModel([]byte(`{"title":"Poll","visibility":"All","questions":[{"title":"Q","type":"Text"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f := am.Form(origin)
	err = forms.ApplyKASForm(f, []byte(`{"id":"x","gid":"y","pid":"z","creatorId":"w","title":"Where to eat","ann":true,
		"exp":1795602600000,"vis":1,"ira":false,"ilr":true,"ques":[{"id":0,"title":"Place","type":0,"invis":false,"editable":false,
		"opts":[{"id":0,"at":"Canteen"},{"id":1,"at":"Park","ap":"https://pics.example/p.png"}]}],"smd":[{"n":"budget","t":1,"v":"10"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != fid || f.ConversationID != conv || f.CreatorID != alice || f.Title != "Where to eat" || !f.Anonymous ||
		f.Expiry.UnixMilli() != 1795602600000 || f.Visibility != cardgate.ResultsSender || f.SeveralPerUser || !f.LocationRequested ||
		len(f.Questions) != 1 || f.Questions[0].Editable || f.Questions[0].Options[1].PictureURL != "https://pics.example/p.png" ||
		len(f.Properties) != 1 || f.Properties[0].Type != cardgate.PropertyNumeric {
		t.Fatalf("form = %+v", f)
	}

	f = am.Form(origin)
	err = forms.ApplyKASForm(f, []byte(`{"id":"com.microsoft.sample","actionBody":{"title":"Web","visibility":"Admin",
		"isResponseAppended":false,"questions":[{"title":"Pick","type":"MultiOption","options":[{"title":"a"},{"title":"b"}]}],
		"properties":[{"name":"when","type":"DateTime","value":"1"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "Web" || f.Visibility != cardgate.ResultsAdmin || f.SeveralPerUser || f.Questions[0].Type != cardgate.MultiSelect ||
		len(f.Questions[0].Options) != 2 || f.Properties[0].Type != cardgate.PropertyDateTime {
		t.Fatalf("form = %+v", f)
	}

	f = am.Form(origin)
	if err := forms.ApplyKASForm(f, []byte(`{"ques":[]}`)); err != nil || len(f.Questions) != 0 || f.Title != "Poll" {
		t.Fatalf("an empty question list: %v, %+v", err, f)
	}

	for _, tc := range []struct{ json, want string }{
		{`{"title":""}`, "title: must not be empty"},
		{`{"vis":7}`, "vis: must be 0 (All), 1 (Sender) or 2 (Admin)"},
		{`{"exp":-5}`, "exp: must be a time in Unix milliseconds"},
		{`{"ques":[{"id":1,"title":"q","type":2}]}`, "ques[0].id: must be 0"},
		{`{"ques":[{"title":"q","type":9}]}`, "ques[0].type: 9 is not a KASQuestionType"},
		{`{"ques":[{"title":"q","type":0,"opts":[{"id":0,"at":"` + strings.Repeat("x", 2000) + `"}]}]}`, "ques[0].opts[0].at: must be at most"},
		{`{"ques":[{"title":"q","type":2,"opts":[{"id":0,"at":"a"}]}]}`, "ques[0].opts: a Text question has no options"},
		{`{"smd":[{"n":"","t":0,"v":""}]}`, "smd[0].n: must not be empty"},
		{`{"smd":[{"n":"a","t":8,"v":""}]}`, "smd[0].t: 8 is not a KASFormPropertyType"},
		{`{"title":5}`, "title: must be a string"},
		{`{"actionBody":{"visibility":"Everyone"}}`, "actionBody.visibility: must be All, Sender or Admin"},
		{`{"actionBody":{"questions":[{"title":"q","type":"Slider"}]}}`, `actionBody.questions[0].type: "Slider" is not a question type`},
	} {
		f := am.Form(origin)
		err := forms.ApplyKASForm(f, []byte(tc.json))
		if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.Contains(cardgate.ErrorMessage(err), tc.want) {
			t.Errorf("%s: err = %v, want EINVALID saying %q", tc.json, err, tc.want)
		}
	}
}
