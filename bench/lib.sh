# Shared by the bench scripts: nginx on 127.0.0.1 over a folder of feeds.
# Expects ROOT and WORK to be set; sets PORT and NGINX_PID.

ensure_tools() {
  local need=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
  [ -x /usr/bin/time ] || need+=(time)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$ROOT/target/release/stancewatch" ] || (cd "$ROOT" && cargo build --release --locked)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_nginx WWW: serves WWW on 127.0.0.1:$PORT with ETag and Last-Modified
# (a repeat poll can be a 304) and logs every request to $WORK/nginx/access.log.
start_nginx() {
  local www=$1
  PORT=${PORT:-$(free_port)}
  mkdir -p "$WORK/nginx"
  # nginx workers run as an unprivileged user when started by root
  chmod 755 "$WORK"
  cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log $WORK/nginx/access.log;
  keepalive_requests 100000;
  sendfile on;
  server {
    listen 127.0.0.1:$PORT;
    root $www;
    etag on;
  }
}
CONF
  : > "$WORK/nginx/access.log"
  "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/feeds/f0.xml" && return
    sleep 0.1
  done
  echo "nginx did not start" >&2
  cat "$WORK/nginx/error.log" >&2
  exit 1
}

stop_nginx() {
  if [ -n "${NGINX_PID:-}" ]; then
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
  fi
}

# sw_config N FILE [EXTRA]: a stancewatch config for feeds f0..f(N-1); every
# feed is on one host here, so the per-host limit is the global one (the
# default, 4, is for real publishers)
sw_config() {
  local n=$1 file=$2 extra=${3:-}
  {
    printf '[state]\npath = "%s/sw/state.db"\n[poll]\ninterval = "15m"\n' "$WORK"
    printf '[fetch]\nconcurrency = 64\nper_host = 64\n'
    printf '[email]\nfrom = "bench@localhost"\nto = ["bench@localhost"]\nmaildir = "%s/sw/mail"\n' "$WORK"
    printf '%b' "$extra"
    for f in $(seq 0 $((n - 1))); do printf '[[feeds]]\nurl = "http://127.0.0.1:%s/feeds/f%s.xml"\n' "$PORT" "$f"; done
  } > "$file"
}
