// Package guidpack keeps an ID in a cache entry in 16 bytes instead of 36
// when it is a GUID in canonical lower-case form, as conversation IDs are,
// so that a cached token that names a conversation stays within the 300
// bytes a cached identity may cost. Other IDs are kept as they are.
//
// An entry records the ID's stored bytes inside its own string and their
// length in a uint16; Flag in that length marks a packed GUID.
package guidpack

import "github.com/google/uuid"

// Flag marks a recorded length as that of a packed GUID.
const Flag = 0x8000

// Pack returns what to store for id and the length to record with it: 16
// raw bytes and 16|Flag for a canonical lower-case GUID, id itself and
// len(id) otherwise. ok is false when id is too long to record (32 KiB or
// more); the caller then caches nothing.
func Pack(id string) (stored string, n uint16, ok bool) {
	if len(id) == 36 {
		if u, err := uuid.Parse(id); err == nil && u.String() == id {
			return string(u[:]), 16 | Flag, true
		}
	}
	if len(id) >= Flag {
		return "", 0, false
	}
	return id, uint16(len(id)), true
}

// Len returns how many bytes the ID recorded with length n takes in the
// entry.
func Len(n uint16) int { return int(n &^ Flag) }

// Unpack returns the ID that Pack stored as stored with length n.
func Unpack(stored string, n uint16) string {
	if n&Flag == 0 {
		return stored
	}
	var u uuid.UUID
	copy(u[:], stored)
	return u.String()
}
