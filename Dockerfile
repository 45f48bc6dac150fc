# Stick-Gen service image: the API (uvicorn, `python -m app.server`), the Celery worker and the migration step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STICKGEN_DATA_DIR=/data \
    HF_HOME=/data/hf-cache

RUN useradd --create-home --uid 10001 stickgen \
    && mkdir -p /data \
    && chown stickgen:stickgen /data

WORKDIR /app

# Same order as scripts/setup: torch first, pinned to the CPU build, so nothing later pulls a
# CUDA build; then the package itself.
RUN python -m pip install --upgrade pip \
    && python -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md alembic.ini ./
COPY stickgen ./stickgen
COPY app ./app
COPY worker ./worker
COPY jobcore ./jobcore
COPY migrations ./migrations
RUN python -m pip install -e .

USER stickgen
VOLUME ["/data"]
EXPOSE 8000

# all interfaces: the API refuses this without STICKGEN_API_KEY (see app/server.py)
CMD ["python", "-m", "app.server", "--host", "0.0.0.0", "--port", "8000"]
