package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/bench/loadgen"
)

// nginx runs with as many worker processes as the Go servers have
// GOMAXPROCS (by default the number of CPUs), so that neither side gets
// more cores to use than the other. Both configurations keep connections
// to their upstreams alive, as the tuned transport of the Go proxies does:
// nginx's default (HTTP/1.0, a new connection per request) would measure
// connection setup, not proxying.
const nginxMain = `worker_processes %d;
pid %s/%s.pid;
error_log %s/%s.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %s/%s-body;
    proxy_temp_path %s/%s-proxy;
%s}
`

// nginxProxyPass is nginx as a plain reverse proxy.
const nginxProxyPass = `
    upstream business { server %s; keepalive 256; }
    server {
        listen %s;
        location / {
            proxy_pass http://business;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
`

// nginxAuth is docs/nginx-forward-auth.conf with keep-alive to both the
// upstream and the adapter.
const nginxAuth = `
    upstream business { server %s; keepalive 256; }
    upstream cardgate { server %s; keepalive 256; }
    server {
        listen %s;
        location / {
            auth_request /_cardgate;
            auth_request_set $cardgate_user $upstream_http_x_cardgate_user_id;
            auth_request_set $cardgate_package $upstream_http_x_cardgate_package_id;
            proxy_set_header X-Cardgate-User-Id $cardgate_user;
            proxy_set_header X-Cardgate-Package-Id $cardgate_package;
            proxy_set_header Authorization "";
            proxy_set_header accessToken "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://business;
        }
        location = /_cardgate {
            internal;
            proxy_pass http://cardgate/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-Uri $request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        error_page 401 = @unauthorized;
        error_page 403 = @forbidden;
        location @unauthorized { return 401 '{"error":{"code":"InvalidToken","message":"token is missing or invalid"}}'; }
        location @forbidden { return 403 '{"error":{"code":"Forbidden","message":"not allowed"}}'; }
    }
`

// startNginx writes a configuration around the http block that body
// returns for a free loopback address, runs nginx in the foreground in a
// process group of its own, and returns its URL and the ids of the master
// and its workers.
func (s *session) startNginx(ctx context.Context, name string, body func(listen string) string) (string, []int, error) {
	listen, err := freePort()
	if err != nil {
		return "", nil, err
	}
	text := fmt.Sprintf(nginxMain, s.nprocs, s.dir, name, s.dir, name, s.dir, name, s.dir, name, body(listen))
	if os.Geteuid() == 0 {
		text = "user root;\n" + text // workers must reach the private temp dir
	}
	conf := filepath.Join(s.dir, name+".conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", nil, err
	}
	logPath := filepath.Join(s.dir, name+".log")
	cmd := exec.Command(s.opts.Nginx, "-p", s.dir, "-c", conf, "-e", logPath, "-g", "daemon off;")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := s.track(name, cmd, true)
	master := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		workers, _ := loadgen.Children(master)
		if len(workers) >= s.nprocs {
			if c, err := net.Dial("tcp", listen); err == nil {
				c.Close()
				return "http://" + listen, append([]int{master}, workers...), nil
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(logPath)
			return "", nil, fmt.Errorf("%s exited: %s", name, b)
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			return "", nil, fmt.Errorf("%s did not start within 10 s: %s", name, b)
		}
	}
}
