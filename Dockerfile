# SMP Planner — production image: migrations, then the server. Configure with SMP_DATABASE_URL
# (PostgreSQL in production) and SMP_SECRET_KEY.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/smp
COPY requirements.lock pyproject.toml README.md ./
RUN /opt/smp/bin/pip install --require-hashes -r requirements.lock

FROM python:3.11-slim-bookworm
ENV PATH=/opt/smp/bin:$PATH PYTHONUNBUFFERED=1 SMP_VAR_DIR=/var/lib/smp
RUN useradd --system --create-home --home-dir /var/lib/smp --uid 10001 smp
COPY --from=build /opt/smp /opt/smp
# The templates, static files and communes data are read from the source tree, installed in place
# exactly as `make install` does on a developer's machine.
WORKDIR /srv/smp
COPY pyproject.toml README.md ./
COPY app ./app
COPY scheduling ./scheduling
COPY sites ./sites
COPY seeds ./seeds
COPY templates ./templates
RUN /opt/smp/bin/pip install --no-deps --no-build-isolation -e . && chown -R root:root /srv/smp
USER smp
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "smp db upgrade && exec smp serve --host 0.0.0.0 --port 8000 --workers ${SMP_WORKERS:-2}"]
