# partnerlink: a small image that runs the agent as a non-root user.
#   docker build -t partnerlink .
#   openssl rand -hex 32 > http-token && chmod 0400 http-token && sudo chown 10001 http-token
#   docker run -d --name partnerlink -v partnerlink-data:/data \
#     -v $PWD/partnerlink.toml:/config/partnerlink.toml:ro \
#     -v $PWD/http-token:/run/secrets/http-token:ro \
#     -e PARTNERLINK_HTTP__TOKEN_FILE=/run/secrets/http-token -p 127.0.0.1:9464:9464 partnerlink
# The endpoint binds 0.0.0.0 inside the container only so that the port mapping reaches it:
# /healthz, /readyz and /metrics are open (no customer data), the report at / answers only
# "Authorization: Bearer <token>" (403 while no token is configured).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md config.example.toml ./
COPY agent ./agent
COPY connectors ./connectors
COPY standin ./standin
RUN python -m venv /opt/partnerlink \
 && /opt/partnerlink/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/partnerlink/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 partnerlink \
 && useradd --system --uid 10001 --gid partnerlink --home-dir /data --shell /usr/sbin/nologin partnerlink \
 && mkdir -p /data /config && chown partnerlink:partnerlink /data
COPY --from=build /opt/partnerlink /opt/partnerlink
ENV PATH="/opt/partnerlink/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PARTNERLINK_CONFIG=/config/partnerlink.toml \
    PARTNERLINK_STORE__DATA_DIR=/data \
    PARTNERLINK_HTTP__BIND=0.0.0.0
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PARTNERLINK_HTTP__PORT','9464'), timeout=4)"]
ENTRYPOINT ["partnerlink"]
CMD ["run"]
