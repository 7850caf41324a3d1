# chaosbus in a container: the interposer, the experiment runner and the demo services.
#   docker build -t chaosbus .
#   docker run --rm chaosbus --help
# Every dependency installs from a binary wheel on python:3.11-slim; no compiler is needed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY chaosbus ./chaosbus
COPY injectors ./injectors
COPY streams ./streams
COPY monitors ./monitors
COPY chaosbus_demo ./chaosbus_demo
# A non-editable install: the scenario library and the demo's Node-RED assets are package
# data, so `chaosbus run NAME` and the demo's services work from any directory.
RUN pip install . && rm -rf /app/chaosbus /app/chaosbus_demo /app/injectors /app/streams /app/monitors

RUN useradd --create-home --uid 10001 chaosbus && mkdir -p /out && chown chaosbus /out
USER chaosbus

ENTRYPOINT ["chaosbus"]
CMD ["--help"]
