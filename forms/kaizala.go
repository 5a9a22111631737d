package forms

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
)

// Form is the JSON KASClient.KASForm.fromJSON reads: the client's short
// keys, enums as numbers, times in Unix milliseconds.
type Form struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"gid"`
	PackageID      string     `json:"pid"`
	CreatorID      string     `json:"creatorId"`
	Title          string     `json:"title"`
	Anonymous      bool       `json:"ann"`
	Expiry         int64      `json:"exp"` // 0: never
	Version        int        `json:"ver"`
	Visibility     int        `json:"vis"`
	ResponseAppend bool       `json:"ira"`
	LocationAsked  bool       `json:"ilr"`
	Type           int        `json:"type"`
	ReportType     int        `json:"rpt"`
	Questions      []Question `json:"ques"`
	Properties     []Property `json:"smd"`
}

// Question is KASQuestion's JSON.
type Question struct {
	ID                 int      `json:"id"`
	Title              string   `json:"title"`
	Type               int      `json:"type"`
	Invisible          bool     `json:"invis"`
	Editable           bool     `json:"editable"`
	ExcludedFromReport bool     `json:"er"`
	DisplayType        int      `json:"dt"`
	Options            []Option `json:"opts,omitempty"`
}

// Option is KASQuestionOption's JSON.
type Option struct {
	ID         int    `json:"id"`
	Text       string `json:"at"`
	PictureURL string `json:"ap,omitempty"`
}

// Property is KASFormProperty's JSON.
type Property struct {
	Name  string `json:"n"`
	Type  int    `json:"t"`
	Value string `json:"v"`
}

// Kaizala's constants for the form: KASForm's version and type, and
// KASQuestionDisplayType.None.
const (
	formVersion     = 2
	formType        = 20
	displayTypeNone = -1
)

// ToForm returns f as KASForm's JSON.
func ToForm(f *cardgate.Form) *Form {
	out := &Form{ID: f.ID, ConversationID: f.ConversationID, PackageID: f.PackageID, CreatorID: f.CreatorID,
		Title: f.Title, Anonymous: f.Anonymous, Expiry: millis(f.Expiry), Version: formVersion,
		Visibility: f.Visibility.Code(), ResponseAppend: f.SeveralPerUser, LocationAsked: f.LocationRequested,
		Type: formType, Questions: make([]Question, 0, len(f.Questions)), Properties: make([]Property, 0, len(f.Properties))}
	for _, q := range f.Questions {
		jq := Question{ID: q.ID, Title: q.Title, Type: int(q.Type), Invisible: q.Invisible, Editable: q.Editable, DisplayType: displayTypeNone}
		for _, o := range q.Options {
			jq.Options = append(jq.Options, Option{ID: o.ID, Text: o.Text, PictureURL: o.PictureURL})
		}
		out.Questions = append(out.Questions, jq)
	}
	for _, p := range f.Properties {
		out.Properties = append(out.Properties, Property{Name: p.Name, Type: int(p.Type), Value: p.Value})
	}
	return out
}

// Response is the JSON KASClient.KASFormResponse.fromJSON reads. The
// answers and the asset map are JSON text inside the JSON, as Kaizala's
// client sent them.
type Response struct {
	ID         string `json:"response_Id_native"`
	SendStatus int    `json:"response_send_status"`
	SendTime   int64  `json:"response_send_time"`
	AssetMap   string `json:"response_assetmap_native"`
	Answers    string `json:"response_payload_native"`
}

// sendStatusSuccess is KASFormMessageSendStatus.Success: a stored response
// was delivered.
const sendStatusSuccess = 3

// ToResponse returns r as KASFormResponse's JSON; its send time is when
// its answers were last sent (the last edit).
func ToResponse(r *cardgate.FormResponse) *Response {
	return &Response{ID: r.ID, SendStatus: sendStatusSuccess, SendTime: millis(r.UpdatedAt),
		AssetMap: "{}", Answers: answersJSON(r.Answers)}
}

// answersJSON writes a questionToAnswerMap: {"0":"1","1":"2"}.
func answersJSON(a map[int]string) string {
	if len(a) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(a) // a map[int]string always encodes
	return string(b)
}

// FlatSummary is the JSON KASClient.KASFormFlatSummary.fromJSON reads:
// frsps maps each responder to their answers by question. For a form that
// takes one response per user an answer is the text itself; for one that
// takes several, it is a JSON list, as text, of that question's answer in
// each of the user's responses, oldest first ("" where a response left
// it out), which KASFormFlatSummary parses.
type FlatSummary struct {
	FormID         string                       `json:"id"`
	ConversationID string                       `json:"gid"`
	Responses      map[string]map[string]string `json:"frsps"`
}

// ProcessedSummary is the JSON KASClient.KASFormProcessedSummary.fromJSON
// reads.
type ProcessedSummary struct {
	// NonResponders lists the members who have not responded; Kaizala's
	// samples count it to know how many were asked.
	NonResponders []string `json:"NonRespondersInGroup"`
	// TargetResponderCount is how many members the conversation has.
	TargetResponderCount int `json:"TargetResponderCount"`
	// TotalResponseCount counts every response, several from one user
	// included.
	TotalResponseCount int `json:"TotalResponseCount"`
	// Results by question ID, for the questions Kaizala aggregates:
	// SingleSelect, MultiSelect, SingleSelectExternal and Numeric.
	Results map[string]*QuestionResult `json:"Results"`
}

// QuestionResult is a KASOptionQuestionResult (OptionResults) or a
// KASNumericQuestionResult (Sum, Average).
type QuestionResult struct {
	QuestionText  string                   `json:"QuestionText"`
	Type          int                      `json:"Type"`
	QuestionID    int                      `json:"QuestionId"`
	OptionResults map[string]*OptionResult `json:"OptionResults,omitempty"`
	Sum           *float64                 `json:"Sum,omitempty"`
	Average       *float64                 `json:"Average,omitempty"`
}

// OptionResult is KASOptionResult's JSON: how many responses chose the
// option, and by whom.
type OptionResult struct {
	AnswerText          string      `json:"AnswerText"`
	AnswerID            int         `json:"AnsId"`
	TotalResponsesCount int         `json:"TotalResponsesCount"`
	Responders          []Responder `json:"Responders"`
}

// Responder is one entry of OptionResult.Responders.
type Responder struct {
	ID            string `json:"Id"`
	ResponseCount int    `json:"ResponseCount"`
}

// AggregatedSummary is the JSON KASClient.KASFormAggregatedSummary.fromJSON
// reads: counts only, and for each question the number of responses that
// chose each option (an empty list for a question without options).
type AggregatedSummary struct {
	FormID            string  `json:"id"`
	Status            int     `json:"st"` // KASClient.FormStatus: 0 active, 2 expired
	TotalResponses    int     `json:"rc"`
	TotalParticipants int     `json:"pc"`
	TargetResponders  int     `json:"tc"`
	Results           [][]int `json:"rs"`
}

// FormStatus values (KASClient.FormStatus).
const (
	statusActive  = 0
	statusExpired = 2
)

// AnonymousPrefix starts the name that stands for a responder in the
// summaries of an anonymous form, or of a response sent anonymously:
// "anonymous-1", "anonymous-2", numbered in the order of their first
// response. No user ID appears beside such a response.
const AnonymousPrefix = "anonymous-"

// Summaries holds the three summaries of a form, computed in one pass.
type Summaries struct {
	Flat       *FlatSummary
	Processed  *ProcessedSummary
	Aggregated *AggregatedSummary
}

// Summarize computes a form's summaries from its responses (oldest first,
// as Store.Responses returns them) and its conversation's members, at now
// (for the aggregated summary's status). Whoever calls it must have
// checked f.CanSeeResults for the viewer.
func Summarize(f *cardgate.Form, members []*cardgate.Member, responses []*cardgate.FormResponse, now time.Time) *Summaries {
	// Who stands for each response: the user, or a pseudonym.
	names := make([]string, len(responses))
	pseudonyms := map[string]string{}
	for i, r := range responses {
		if !f.Anonymous && !r.Anonymous {
			names[i] = r.UserID
			continue
		}
		p, ok := pseudonyms[r.UserID]
		if !ok {
			p = AnonymousPrefix + strconv.Itoa(len(pseudonyms)+1)
			pseudonyms[r.UserID] = p
		}
		names[i] = p
	}

	// Responses grouped by name, keeping the order of first response.
	var order []string
	byName := map[string][]*cardgate.FormResponse{}
	for i, r := range responses {
		if _, ok := byName[names[i]]; !ok {
			order = append(order, names[i])
		}
		byName[names[i]] = append(byName[names[i]], r)
	}

	responded := make(map[string]bool, len(responses))
	for _, r := range responses {
		responded[r.UserID] = true
	}
	nonResponders := []string{}
	for _, m := range members {
		if !responded[m.UserID] {
			nonResponders = append(nonResponders, m.UserID)
		}
	}

	flat := &FlatSummary{FormID: f.ID, ConversationID: f.ConversationID, Responses: make(map[string]map[string]string, len(order))}
	for _, name := range order {
		flat.Responses[name] = flatAnswers(f, byName[name])
	}

	processed := &ProcessedSummary{NonResponders: nonResponders, TargetResponderCount: len(members),
		TotalResponseCount: len(responses), Results: map[string]*QuestionResult{}}
	agg := &AggregatedSummary{FormID: f.ID, Status: statusActive, TotalResponses: len(responses),
		TotalParticipants: len(responded), TargetResponders: len(members), Results: make([][]int, len(f.Questions))}
	if f.Expired(now) {
		agg.Status = statusExpired
	}
	for qi := range f.Questions {
		q := &f.Questions[qi]
		agg.Results[qi] = make([]int, len(q.Options))
		switch {
		case q.Type.HasOptions():
			res := optionResult(q, responses, names)
			for oi, o := range q.Options {
				agg.Results[qi][oi] = res.OptionResults[strconv.Itoa(o.ID)].TotalResponsesCount
			}
			processed.Results[strconv.Itoa(q.ID)] = res
		case q.Type == cardgate.Numeric:
			processed.Results[strconv.Itoa(q.ID)] = numericResult(q, responses)
		}
	}
	return &Summaries{Flat: flat, Processed: processed, Aggregated: agg}
}

// flatAnswers is one responder's entry of the flat summary.
func flatAnswers(f *cardgate.Form, rs []*cardgate.FormResponse) map[string]string {
	out := map[string]string{}
	if !f.SeveralPerUser {
		// One response per user; should a form's setting have changed
		// under older responses, the latest one stands.
		for qid, a := range rs[len(rs)-1].Answers {
			out[strconv.Itoa(qid)] = a
		}
		return out
	}
	asked := map[int]bool{}
	for _, r := range rs {
		for qid := range r.Answers {
			asked[qid] = true
		}
	}
	for qid := range asked {
		list := make([]string, len(rs))
		for i, r := range rs {
			list[i] = r.Answers[qid]
		}
		b, _ := json.Marshal(list)
		out[strconv.Itoa(qid)] = string(b)
	}
	return out
}

func optionResult(q *cardgate.Question, responses []*cardgate.FormResponse, names []string) *QuestionResult {
	res := &QuestionResult{QuestionText: q.Title, Type: int(q.Type), QuestionID: q.ID,
		OptionResults: make(map[string]*OptionResult, len(q.Options))}
	counts := make([]map[string]int, len(q.Options))
	orders := make([][]string, len(q.Options)) // names in the order they first chose the option
	for i := range counts {
		counts[i] = map[string]int{}
	}
	count := func(opt int, name string) {
		if counts[opt][name] == 0 {
			orders[opt] = append(orders[opt], name)
		}
		counts[opt][name]++
	}
	for i, r := range responses {
		a, ok := r.Answers[q.ID]
		if !ok || strings.TrimSpace(a) == "" {
			continue
		}
		if q.Type == cardgate.MultiSelect {
			opts, err := q.SelectedOptions(a)
			if err != nil {
				continue // stored before a check that refuses it; it counts for nothing
			}
			for _, o := range opts {
				count(o, names[i])
			}
		} else if o, ok := q.SelectedOption(a); ok {
			count(o, names[i])
		}
	}
	for i, o := range q.Options {
		or := &OptionResult{AnswerText: o.Text, AnswerID: o.ID, Responders: make([]Responder, 0, len(orders[i]))}
		for _, name := range orders[i] {
			n := counts[i][name]
			or.Responders = append(or.Responders, Responder{ID: name, ResponseCount: n})
			or.TotalResponsesCount += n
		}
		res.OptionResults[strconv.Itoa(o.ID)] = or
	}
	return res
}

func numericResult(q *cardgate.Question, responses []*cardgate.FormResponse) *QuestionResult {
	var sum float64
	n := 0
	for _, r := range responses {
		a := strings.TrimSpace(r.Answers[q.ID])
		if a == "" {
			continue
		}
		v, err := strconv.ParseFloat(a, 64)
		if err != nil {
			continue
		}
		sum += v
		n++
	}
	avg := 0.0
	if n > 0 {
		avg = sum / float64(n)
	}
	return &QuestionResult{QuestionText: q.Title, Type: int(q.Type), QuestionID: q.ID, Sum: &sum, Average: &avg}
}
