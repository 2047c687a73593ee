# syntax=docker/dockerfile:1
# Pantau production image: web (default command), and the same image runs the one-shot migration and,
# later, the bridge processes (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system --gid 10001 pantau \
 && useradd --system --uid 10001 --gid pantau --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin pantau

WORKDIR /app

# Dependencies in their own layer, rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write(chr(10).join(deps) + chr(10))" \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself. The source tree stays in /app and is the working directory: gunicorn and
# `python -m ...` import from it first, and Dash finds assets/ and pages/ next to app.py.
COPY . .
RUN pip install . \
 && rm -rf build ./*.egg-info \
 && mkdir -p var \
 && chown pantau:pantau var

USER pantau

EXPOSE 8050

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4)"]

# Workers, threads, keep-alive and the port: gunicorn.conf.py (the live screens are served by `python -m streams`).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:server"]
