//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package h1client

import (
	"net"
	"syscall"
)

// stillIdle reports whether a kept-alive connection can take a request:
// the upstream has neither closed it nor sent anything since its last
// response. It peeks at the socket without blocking, one system call:
// bytes there are an answer to nothing, which the next request would
// read as its own (net/http's Transport watches for them with its read
// goroutine), and an end of stream is an upstream that closed it.
func stillIdle(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	idle := false
	var b [1]byte
	err = raw.Control(func(fd uintptr) {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		idle = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
	})
	return err == nil && idle
}
