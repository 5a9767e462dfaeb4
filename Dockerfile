# Common Ground application image: one image runs the web server (gunicorn, the default
# command), the Celery worker, Celery beat and one-off management commands.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# System libraries WeasyPrint renders PDFs with (Pango, HarfBuzz) and a font to render in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libcairo2 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that code changes do not invalidate this layer.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected into the image (var/staticfiles) and served by WhiteNoise.
# Collect with DEBUG off, as the container runs: only then is WhiteNoise's manifest storage
# used, which writes the staticfiles.json that {% static %} needs at run time (collected with
# DEBUG on, every page would fail with "Missing staticfiles manifest entry"). DEBUG off
# requires a SECRET_KEY; this placeholder exists only for this build step.
RUN DEBUG=false SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --noinput

# Run as an unprivileged user. The code stays owned by root (read-only to the app); only
# var/ (uploaded media, mail files, the embedded broker's queue) is writable.
RUN useradd --system --user-group --home-dir /app --no-create-home app \
    && mkdir -p var/media \
    && chown -R app:app var
USER app

EXPOSE 8000
CMD ["gunicorn", "partnership.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
