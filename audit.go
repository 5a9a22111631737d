package cardgate

import "time"

// AuditRecord is what the adapter records about one request: who, which
// route, what happened, how long and how much. It never holds a body, a
// token, a secret or a query string.
type AuditRecord struct {
	// ID orders the records; the store assigns it, increasing.
	ID             int64         `json:"id"`
	Time           time.Time     `json:"time"`
	UserID         string        `json:"userId,omitempty"` // empty when the token was missing or invalid
	PackageID      string        `json:"actionPackageId,omitempty"`
	ConversationID string        `json:"conversationId,omitempty"` // the token's; empty when minted outside any conversation
	Route          string        `json:"route,omitempty"`          // empty when no route matched
	Method         string        `json:"method"`
	Status         int           `json:"status"`                   // sent to the client; 499 if it went away
	UpstreamStatus int           `json:"upstreamStatus,omitempty"` // 0 when the upstream was not reached
	ErrorCode      string        `json:"errorCode,omitempty"`      // the code of a refused request
	Latency        time.Duration `json:"latencyNs"`
	BytesIn        int64         `json:"bytesIn"`  // request body bytes read from the client
	BytesOut       int64         `json:"bytesOut"` // response body bytes written to the client
	ForwardAuth    bool          `json:"forwardAuth,omitempty"`
}

// AuditQuery selects audit records. Zero fields select everything.
type AuditQuery struct {
	UserID         string
	PackageID      string
	ConversationID string    // requests with tokens minted in this conversation
	Since          time.Time // records at or after
	AfterID        int64     // records with a larger ID, for following the tail
	Limit          int       // at most this many, oldest first; 0 means 100
	// Newest selects the newest Limit records instead of the oldest; they
	// are still returned oldest first.
	Newest bool
}
