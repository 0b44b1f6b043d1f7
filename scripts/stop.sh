#!/usr/bin/env bash
# Stop the server and the worker that scripts/run.sh started.
cd "$(dirname "$0")/.."
for name in server worker; do
    pidfile=var/run/$name.pid
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $name"
        rm -f "$pidfile"
    fi
done
