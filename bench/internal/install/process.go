package install

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// StartLine starts a server that says "listening on URL" on its first line
// of output and returns the URL and the process, which is also returned
// when it started but said something else (the caller stops it). Its
// output goes to logPath; it dies with the caller.
func StartLine(ctx context.Context, logPath, name string, env []string, bin string, args ...string) (string, *exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", nil, fmt.Errorf("start %s: %w", name, err)
	}
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		l, _ := br.ReadString('\n')
		line <- l
		io.Copy(logf, br) // cardgate's servers log to stdout too: keep draining
		logf.Close()
	}()
	select {
	case l := <-line:
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "listening" || !strings.HasPrefix(f[2], "http://127.0.0.1:") {
			b, _ := os.ReadFile(logPath)
			return "", cmd, fmt.Errorf("%s said %q; its log, %s: %s", name, l, logPath, b)
		}
		return f[2], cmd, nil
	case <-time.After(30 * time.Second):
		return "", cmd, fmt.Errorf("%s did not start within 30 s", name)
	case <-ctx.Done():
		return "", cmd, ctx.Err()
	}
}
