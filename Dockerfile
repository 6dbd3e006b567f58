# Spur API: a slim image that runs `spur serve` as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SPUR_DATABASE_URL=sqlite:///data/spur.sqlite3 \
    SPUR_LOG_JSON=true

WORKDIR /app
COPY pyproject.toml README.md ./
COPY spur ./spur
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --create-home spur

USER spur
WORKDIR /data
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

CMD ["spur", "serve", "--host", "0.0.0.0", "--port", "8000"]
