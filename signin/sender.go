package signin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Sender delivers sign-in codes: an SMS gateway in production.
type Sender interface {
	SendCode(ctx context.Context, phone, code string) error
}

// LogSender writes each code to a log instead of sending it: for
// development and the demo, where nobody has an SMS gateway. The code is the
// message being delivered, so this is the one log that holds one; never use
// it where the log is read by anyone but the person signing in.
type LogSender struct {
	Log *slog.Logger
}

// SendCode implements Sender.
func (s LogSender) SendCode(ctx context.Context, phone, code string) error {
	s.Log.LogAttrs(ctx, slog.LevelWarn, "sign-in code (log sender: development only)",
		slog.String("phoneNumber", phone), slog.String("code", code))
	return nil
}

// WebhookSender posts each code to an SMS gateway (or any HTTP endpoint) as
// JSON: {"to": "+14155550123", "code": "123456", "message": "..."}. Any 2xx
// answer means sent.
type WebhookSender struct {
	URL string
	// Authorization, if set, is sent as the Authorization header (a
	// gateway's API key, say). It is a secret: it appears in no error.
	Authorization string
	// Message is the text sent, with %s for the code; empty means
	// "Your cardgate sign-in code is %s. It expires in 10 minutes."
	Message string
	// Client makes the request; nil means a client with a 10 s timeout.
	Client *http.Client
}

// SendCode implements Sender.
func (s WebhookSender) SendCode(ctx context.Context, phone, code string) error {
	msg := s.Message
	if msg == "" {
		msg = "Your cardgate sign-in code is %s. It expires in 10 minutes."
	}
	body, _ := json.Marshal(map[string]string{"to": phone, "code": code, "message": fmt.Sprintf(msg, code)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("signin: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Authorization != "" {
		req.Header.Set("Authorization", s.Authorization)
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		var ue *url.Error // its text repeats the URL, which may hold a key
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("signin: webhook: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("signin: webhook answered %s", res.Status)
	}
	return nil
}
