package cli

import (
	"errors"
	"fmt"
	"net"
)

// listenSpec is one listener a server needs, with the flag that moves it.
type listenSpec struct {
	flag, addr string
}

// listenAll opens every listener before anything starts, and on failure
// closes those it opened and reports every address that could not be had
// at once, each with the flag that moves it: an operator fixes all the
// conflicts in one go rather than one per run.
func listenAll(specs ...listenSpec) ([]net.Listener, error) {
	lns := make([]net.Listener, len(specs))
	var errs []error
	for i, s := range specs {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w; pass %s host:port to move it (127.0.0.1:0 takes a free port)",
				s.flag, s.addr, unwrapOpError(err), s.flag))
			continue
		}
		lns[i] = ln
	}
	if len(errs) == 0 {
		return lns, nil
	}
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("%d addresses cannot be listened on:\n%w", len(errs), errors.Join(errs...))
}

// unwrapOpError drops net.OpError's "listen tcp 127.0.0.1:8080: " prefix,
// which repeats the address the message already names.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
