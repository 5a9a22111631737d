package adapter

import (
	"testing"

	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// NewRetainingAuditLog with zero settings prunes with the defaults of the
// audit section; NewAuditLog never prunes.
func TestAuditRetentionDefaults(t *testing.T) {
	store := sqlitetest.Open(t)
	l := NewRetainingAuditLog(store, nil, 0, AuditConfig{})
	defer l.Close()
	if l.pruner == nil || l.retain != (AuditConfig{MaxAge: DefaultAuditMaxAge, MaxRecords: DefaultAuditMaxRecords}) {
		t.Errorf("retention %+v, pruning %v", l.retain, l.pruner != nil)
	}
	k := NewAuditLog(store, nil, 0)
	defer k.Close()
	if k.pruner != nil {
		t.Error("NewAuditLog prunes")
	}
}
