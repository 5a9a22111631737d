package httpjson_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

func TestErrorShape(t *testing.T) {
	for code, status := range map[string]int{
		cardgate.EINVALID: 400, cardgate.EINVALIDTOKEN: 401, cardgate.EFORBIDDEN: 403, cardgate.ENOTFOUND: 404,
		cardgate.EMETHOD: 405, cardgate.ETOOLARGE: 413, cardgate.EHEADERTOOLARGE: 431, cardgate.ERATELIMITED: 429,
		cardgate.EUPSTREAM: 502, cardgate.EUNAVAILABLE: 503, cardgate.EUPSTREAMTIMEOUT: 504, cardgate.EINTERNAL: 500,
	} {
		w := httptest.NewRecorder()
		httpjson.Error(w, cardgate.WrapError(code, "what is wrong", errSecret))
		if w.Code != status || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: status %d type %q", code, w.Code, w.Header().Get("Content-Type"))
		}
		var body httpjson.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != code || body.Error.Message != "what is wrong" {
			t.Errorf("%s: body %s", code, w.Body)
		}
		if strings.Contains(w.Body.String(), "s3cret") {
			t.Errorf("%s: the cause reached the client", code)
		}
		if wa := w.Header().Get("WWW-Authenticate"); (status == 401) != (wa != "") {
			t.Errorf("%s: WWW-Authenticate %q", code, wa)
		}
	}
}

var errSecret = &secretErr{}

type secretErr struct{}

func (*secretErr) Error() string { return "password=s3cret" }

func TestDecode(t *testing.T) {
	type req struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	tests := []struct {
		body, ctype string
		code        string
		msg         string
	}{
		{`{"name":"a","n":1}`, "application/json", "", ""},
		{`{"name":"a"}`, "", "", ""},
		{``, "application/json", cardgate.EINVALID, "body: empty"},
		{`{"name":`, "application/json", cardgate.EINVALID, "body: JSON ends too early"},
		{`{"name":"a",}`, "application/json", cardgate.EINVALID, "body: malformed JSON at byte"},
		{`{"n":"x"}`, "application/json", cardgate.EINVALID, "n: must be int, not string"},
		{`[1]`, "application/json", cardgate.EINVALID, "body: must be a JSON object"},
		{`{"nope":1}`, "application/json", cardgate.EINVALID, "nope: unknown field"},
		{`{"name":"a"}{"name":"b"}`, "application/json", cardgate.EINVALID, "exactly one JSON object"},
		{`{"name":"a"}`, "text/plain", cardgate.EINVALID, "Content-Type must be application/json"},
		{`{"name":"` + strings.Repeat("a", 200) + `"}`, "application/json", cardgate.ETOOLARGE, "larger than 100 bytes"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		if tt.ctype != "" {
			r.Header.Set("Content-Type", tt.ctype)
		}
		var v req
		err := httpjson.Decode(httptest.NewRecorder(), r, &v, 100)
		if cardgate.ErrorCode(err) != tt.code || !strings.Contains(cardgate.ErrorMessage(err), tt.msg) {
			t.Errorf("%q: err = %v, want code %q message containing %q", tt.body, err, tt.code, tt.msg)
		}
	}
}

func TestMuxMiss(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(http.ResponseWriter, *http.Request) {})
	for target, want := range map[string]int{"/things/1": 405, "/nothing": 404} {
		r := httptest.NewRequest("POST", target, nil)
		h, _ := mux.Handler(r)
		status, hdr := httpjson.MuxMiss(h, r)
		if status != want {
			t.Errorf("%s: %d, want %d", target, status, want)
		}
		if want == 405 && !strings.Contains(hdr.Get("Allow"), "GET") {
			t.Errorf("Allow = %q", hdr.Get("Allow"))
		}
	}
}
