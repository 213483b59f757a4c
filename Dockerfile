# Leadrouter: one `leadrouter serve` per container. Run as many as you like against one
# PostgreSQL (see docker-compose.yml and the README's "Running several replicas").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what `pip install .` needs: the packages and their metadata (see .dockerignore).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY domain ./domain
COPY storage ./storage
RUN pip install . && rm -rf /src

# No root at run time; the working directory holds nothing but an optional .env.
RUN useradd --system --create-home --home-dir /app leadrouter
USER leadrouter
WORKDIR /app

EXPOSE 3000
# Ready means the database answers (GET /readyz); a load balancer should route only to
# ready replicas. Python's stdlib does the probe, so the image needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('LEADROUTER_PORT', '3000'), timeout=2)"]

# `serve` migrates first (under a PostgreSQL advisory lock, so replicas starting together
# are safe), then serves Slack and the intake API on LEADROUTER_PORT.
CMD ["leadrouter", "serve"]
