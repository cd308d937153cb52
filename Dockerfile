# Berth: the panel (default command) and the Dramatiq worker (command `dramatiq tasks`) in one image.
# Configuration comes only from environment variables: see docs/self-hosting.md.
#
# The base is replaceable so the image also builds where no registry is reachable, e.g. from a Debian
# rootfs with python3 and python3-venv made by debootstrap and `docker import`:
#   docker build --build-arg BASE_IMAGE=my/python-base:bookworm -t berth:local .
# Plain Dockerfile syntax only: it builds with BuildKit and with the legacy builder alike.
ARG BASE_IMAGE=python:3.11-slim

# --- builder: a virtualenv with the pinned dependencies; pip's caches and wheels stay in this stage ---
FROM ${BASE_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall --yes pip

# --- runtime: the same base, the virtualenv, the application and an unprivileged user ---
FROM ${BASE_IMAGE}
# berth.protected: every container of this image (panel, worker) is Berth's own; non-admins may not exec into it,
# read its logs or environment, or mount its volumes (core/protection.py).
LABEL org.opencontainers.image.title="Berth" \
      org.opencontainers.image.description="A web panel for the team that shares Docker hosts" \
      berth.protected="true"

ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BERTH_HOST=0.0.0.0 \
    BERTH_PORT=8080 \
    BERTH_DATA_DIR=/data \
    NICEGUI_STORAGE_PATH=/data/nicegui

RUN groupadd --system --gid 10001 berth \
 && useradd --system --uid 10001 --gid berth --home-dir /home/berth --create-home --shell /usr/sbin/nologin berth \
 && mkdir -p /data \
 && chown berth:berth /data

COPY --from=builder /opt/venv /opt/venv
COPY deploy/entrypoint.sh /usr/local/bin/berth-entrypoint
WORKDIR /app
COPY . /app
RUN chmod 0755 /usr/local/bin/berth-entrypoint \
 && python3 -m compileall -q /app

VOLUME /data
EXPOSE 8080
# /livez: the process serves. /healthz (503 while Docker, Redis or the database is down) is for monitoring: an
# engine outage must not mark the panel unhealthy, which would have it restarted while it waits for the engine.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('BERTH_PORT', '8080'), timeout=4)"]

# Starts as root only to let `berth` into the group that owns the mounted Docker socket, then drops to `berth`.
ENTRYPOINT ["berth-entrypoint"]
CMD ["python3", "main.py"]
