#!/bin/sh
# Runs the given command (the panel or `dramatiq tasks`) as the unprivileged user `berth`.
#
# The Docker socket's group id differs from host to host (the `docker` group is 999 on one machine, 107 or
# 998 on the next), so it cannot be baked into the image. Started as root (the image default), this script
# reads the gid of the mounted socket and drops to `berth` with that gid as a supplementary group, using
# setpriv from util-linux; nothing in /etc is changed. Started as any other user (`--user`, with
# `--group-add <gid>`), it changes nothing and just runs the command.
set -eu

if [ "$(id -u)" != 0 ]; then
    exec "$@"
fi

groups=berth
docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
case "$docker_host" in
    unix://*)
        socket=${docker_host#unix://}
        if [ -S "$socket" ]; then
            groups="$groups,$(stat -c %g "$socket")"
        else
            echo "berth-entrypoint: no Docker socket at $socket (mount it with -v /var/run/docker.sock:$socket)" >&2
        fi
        ;;
esac

# A fresh named volume is owned by berth already; a bind-mounted host folder may not be.
data_dir=${BERTH_DATA_DIR:-/data}
mkdir -p "$data_dir"
find "$data_dir" \! -user berth -exec chown berth:berth '{}' + \
    || echo "berth-entrypoint: could not hand $data_dir to berth (uid 10001); it must be writable by it" >&2

export HOME=/home/berth USER=berth LOGNAME=berth
exec setpriv --reuid=berth --regid=berth --groups="$groups" --inh-caps=-all --no-new-privs -- "$@"
