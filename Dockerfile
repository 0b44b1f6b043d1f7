# The web and worker image: slim Python, pinned dependencies, non-root, gunicorn.
FROM python:3.11-slim-bookworm AS assets
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The devDependencies are the tests' (Enketo and its bundler), not the app's.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
# The workbench (Vue) is built here; the image serves the built files and carries no Node.js.
COPY server/workbench/app ./server/workbench/app
COPY server/workbench/vite.config.js ./server/workbench/
RUN npx --no-install vite build --config server/workbench/vite.config.js

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# The notices' fonts (server/cases/pdf.py): a Song face for the text, a Hei face for the titles.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-arphic-uming fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 notoneless
WORKDIR /app
COPY pyproject.toml ./
COPY server ./server
COPY --from=assets /app/server/workbench/dist ./server/workbench/dist
COPY sync ./sync
COPY survey_forms ./survey_forms
COPY mobile_contract ./mobile_contract
RUN pip install .
COPY alembic.ini gunicorn.conf.py ./
COPY migrations ./migrations
COPY --from=assets /app/node_modules ./node_modules
USER notoneless
EXPOSE 8000
# The worker runs the same image with `notoneless worker`; the migration step with
# `alembic upgrade head` (see compose.yaml).
# BIND: 127.0.0.1 unless told otherwise (compose.yaml tells the web service 0.0.0.0, inside its
# network, behind the TLS proxy).
ENV BIND=127.0.0.1
CMD ["sh", "-c", "exec gunicorn --bind \"${BIND}:8000\" --workers 2 --threads 4 --timeout 120 --logger-class server.access_log.RedactingLogger 'server:create_app()'"]
